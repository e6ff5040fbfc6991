"""The guided first run: shown once on a fresh start, skippable, back from Help; it detects the
machine off the GUI thread and points at the model that suits it, with the licence/token steps."""
from dataclasses import replace

import pytest

from engine.hub.catalog import CSM_1B
from studio.core.hardware import Hardware, detect_hardware, recommend_model

GB = 1_000_000_000


@pytest.fixture
def window(qtbot):
    from studio.ui.app import create_window
    from studio.ui.widgets.background import shutdown_pools

    w = create_window()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    shutdown_pools()
    w.ctx.library.close()


def test_hardware_is_detected_without_torch(tmp_path):
    hw = detect_hardware(tmp_path / "not-yet-created")
    assert hw.accelerator in ("cuda", "mps", "cpu")
    assert hw.ram_bytes > GB and hw.free_disk_bytes > 0 and hw.cpu_count >= 1
    assert any("Free disk" in line for line in hw.summary_lines())
    import subprocess
    import sys

    code = ("import sys; from studio.core.hardware import detect_hardware, recommend_model; "
            f"recommend_model(detect_hardware({str(tmp_path)!r})); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", "asking for the GPU must not load torch (~1 GB, seconds)"


def test_the_recommendation_fits_the_machine():
    cpu = Hardware("cpu", "Some CPU", 0, 16 * GB, 100 * GB, 8)
    r = recommend_model(cpu, (CSM_1B,))
    assert r.entry is CSM_1B and "CPU" in r.why and not r.warnings
    assert any("accept the model's licence" in s for s in r.steps), "CSM-1B is gated: licence first"
    assert any("settings/tokens" in s for s in r.steps) and any("Import local folder" in s for s in r.steps)
    gpu = Hardware("cuda", "NVIDIA RTX 4090", 24 * GB, 64 * GB, 100 * GB, 16)
    assert "bf16" in recommend_model(gpu).why
    small = replace(cpu, free_disk_bytes=2 * GB, ram_bytes=4 * GB)
    warnings = " ".join(recommend_model(small, (CSM_1B,)).warnings)
    assert "only 2.0 GB is free" in warnings and "tight" in warnings
    # A CPU real-time model in the catalog is what a machine without a GPU gets.
    pocket = replace(CSM_1B, model_id="kyutai/pocket-tts", name="Pocket TTS", backend="pocket", gated=False)
    assert recommend_model(cpu, (CSM_1B, pocket)).entry is pocket
    assert recommend_model(gpu, (CSM_1B, pocket)).entry is CSM_1B
    # The real catalog: a laptop CPU is offered Pocket TTS in English, with its gated-licence steps.
    real = recommend_model(cpu)
    assert real.entry.backend == "pocket" and "en" in real.entry.languages and real.entry.gated
    assert any("settings/tokens" in s for s in real.steps)


def test_guide_walks_through_and_is_shown_once(qtbot, window):
    assert not window.ctx.settings.first_run_done
    guide = window.show_getting_started()
    with qtbot.waitSignal(guide.hardwareShown, timeout=30000):
        pass
    assert "Free disk" in guide.hardware_label.text()
    assert guide.refresh_status() == {"voice": False, "model": False}
    assert "missing: a voice and a model" in guide.status_labels["take"].text()
    window.ctx.voices.create("Narrator", consent=True)
    guide.go(1)  # each step says what is done already
    assert "Saved: Narrator" in guide.status_labels["voice"].text()
    assert "missing: a model" in guide.status_labels["take"].text()
    guide.go(0)
    expected = recommend_model(guide.hardware).entry.name  # Pocket TTS on a CPU, CSM-1B on a GPU
    assert expected in guide.model_label.text() and "settings/tokens" in guide.model_label.text()
    guide.next_button.click()
    assert guide.stack.currentIndex() == 1
    guide.next_button.click()
    guide.models_button.click()  # opens Models with the recommended entry selected
    assert window.current_workspace().title == "Models"
    assert window.current_workspace().controller.selected_entry() == recommend_model(guide.hardware).entry
    guide.next_button.click()
    assert guide.next_button.text() == "Finish"
    guide.next_button.click()
    assert not guide.isVisible() and window.ctx.settings.first_run_done
    # Help ▸ Getting started brings it back, from the first step.
    window.guide_action.trigger()
    assert guide.isVisible() and guide.stack.currentIndex() == 0
    guide.skip_button.click()
    assert not guide.isVisible()


def test_skipping_counts_as_seen_and_survives_a_restart(qtbot, window):
    from studio.core.settings import load_settings

    guide = window.show_getting_started()
    guide.skip_button.click()
    assert load_settings(window.ctx.paths.settings_file).first_run_done


def test_an_nvidia_gpu_is_found_through_nvidia_smi(tmp_path, monkeypatch):
    """A stand-in nvidia-smi answering as an H100 does (`--query-gpu=name,memory.total`, MiB)."""
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")
    hw = detect_hardware(tmp_path)
    assert hw.accelerator == "cuda" and hw.device_name == "NVIDIA H100 80GB HBM3"
    assert hw.device_memory_bytes == 81559 * 1024 * 1024
    assert "NVIDIA GPU (CUDA)" in hw.summary_lines()[0]
    assert "bf16" in recommend_model(hw).why
