"""The workspaces the main window shows, in switcher order.

Each entry names a module and a QWidget subclass constructed as `cls(ctx)` with the shared
`StudioContext`; each workspace package adds its own line here.
"""
WORKSPACES: list[tuple[str, str, str]] = [
    # (title, module, class name)
    ("Voices", "studio.ui.voices.workspace", "VoicesWorkspace"),
    ("Synthesize", "studio.ui.synthesize.workspace", "SynthesizeWorkspace"),
    ("Compare", "studio.ui.compare.workspace", "CompareWorkspace"),
    ("Models", "studio.ui.models.workspace", "ModelsWorkspace"),
    ("Dataset", "studio.ui.dataset.workspace", "DatasetWorkspace"),
    ("Fine-tune", "studio.ui.finetune.workspace", "FinetuneWorkspace"),
]
