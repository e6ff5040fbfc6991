"""Synthesize workspace layout (no behaviour: the controllers wire it)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)

from studio.ui.synthesize.chunk_strip import ChunkStrip
from studio.ui.widgets.mel_view import MelView
from studio.ui.widgets.score_view import ScoresPanel
from studio.ui.widgets.token_grid import TokenGrid
from studio.ui.widgets.waveform import WaveformView


def _spin(lo, hi, value, step=None, decimals=None):
    s = QDoubleSpinBox() if decimals is not None else QSpinBox()
    if decimals is not None:
        s.setDecimals(decimals)
    s.setRange(lo, hi)
    if step:
        s.setSingleStep(step)
    s.setValue(value)
    return s


class SynthesizeView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.splitter = QSplitter(Qt.Horizontal)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.splitter)

        # ---- left: what to say, with which voice and model ----
        left = QWidget()
        ll = QVBoxLayout(left)
        pick = QFormLayout()
        self.voice_combo = QComboBox()
        self.model_combo = QComboBox()
        self.device_combo = QComboBox()
        for label, value in (("Auto (CUDA, then MPS, then CPU)", "auto"), ("NVIDIA GPU (CUDA)", "cuda"),
                             ("Apple GPU (MPS)", "mps"), ("CPU", "cpu")):
            self.device_combo.addItem(label, value)
        self.device_combo.setToolTip("Where the model runs; the take's recipe records the device and dtype")
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.recommendation.setObjectName("recommendation")
        # Multilingual models (Qwen3-TTS): the take's language, detected from the script by default.
        self.language_combo = QComboBox()
        self.language_combo.addItem("Detect from the text", "detect")
        self.language_combo.addItem("Auto (the model guesses)", None)
        from engine.text.detect_language import CODES, LABELS

        for code in CODES:
            self.language_combo.addItem(LABELS[code], code)
        self.language_combo.setToolTip("The language the take is spoken in; stored in its recipe, and the "
                                       "language its WER is scored in")
        self.instruct_edit = QLineEdit()  # Qwen3-TTS CustomVoice style / VoiceDesign description
        self.instruct_edit.setToolTip("An instruction the model follows (stored in the take's recipe)")
        pick.addRow("Voice", self.voice_combo)
        pick.addRow("Model", self.model_combo)
        pick.addRow("", self.recommendation)
        pick.addRow("Language", self.language_combo)
        pick.addRow("Style", self.instruct_edit)
        pick.addRow("Device", self.device_combo)
        self.pick_form = pick
        ll.addLayout(pick)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Type or paste a script. A blank line or [pause 1.5s] inserts silence.")
        ll.addWidget(self.text_edit, 1)
        self.chunk_info = QLabel()
        ll.addWidget(self.chunk_info)

        form = QFormLayout()
        self.temperature = _spin(0.05, 2.0, 0.9, 0.05, 2)
        self.top_k = _spin(1, 4096, 50)
        self.top_p = _spin(0.05, 1.0, 1.0, 0.05, 2)
        seed_row = QHBoxLayout()
        self.random_seed = QCheckBox("Random")
        self.random_seed.setChecked(True)
        self.seed = _spin(0, 2**31 - 2, 1234)
        self.seed.setEnabled(False)
        seed_row.addWidget(self.random_seed)
        seed_row.addWidget(self.seed, 1)
        self.takes_per_click = _spin(1, 8, 1)
        self.max_seconds = _spin(0.0, 600.0, 0.0, 5.0, 1)
        self.max_seconds.setSpecialValueText("auto (from the text)")
        self.stream_frames = _spin(1, 25, 5)
        self.stream_frames.setToolTip("Frames per streamed audio chunk (CSM: 5 frames = 0.4 s). "
                                      "Smaller starts playback sooner; larger is a little faster overall.")
        # Pocket TTS's own knobs (shown while a Pocket model is chosen; defaults are left out of recipes).
        self.pocket_box = QWidget()
        prow = QHBoxLayout(self.pocket_box)
        prow.setContentsMargins(0, 0, 0, 0)
        self.eos_threshold = _spin(-10.0, 10.0, -10.0, 0.5, 1)
        self.eos_threshold.setSpecialValueText("model default")
        self.eos_threshold.setToolTip("End of speech when the EOS logit passes this (higher: speaks longer)")
        self.flow_steps = _spin(1, 16, 1)
        self.flow_steps.setToolTip("Flow decoding steps per frame (1 is what the model was trained for)")
        self.noise_clamp = _spin(0.0, 10.0, 0.0, 0.5, 1)
        self.noise_clamp.setSpecialValueText("off")
        self.noise_clamp.setToolTip("Truncate the sampling noise to ±this (off: plain Gaussian)")
        for label, w in (("EOS", self.eos_threshold), ("steps", self.flow_steps), ("clamp", self.noise_clamp)):
            prow.addWidget(QLabel(label))
            prow.addWidget(w, 1)
        self.settings_form = form
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-k", self.top_k)
        form.addRow("Top-p", self.top_p)
        form.addRow("Pocket TTS", self.pocket_box)
        form.addRow("Seed", seed_row)
        form.addRow("Takes per click", self.takes_per_click)
        form.addRow("Max duration (s)", self.max_seconds)
        form.addRow("Stream chunk (frames)", self.stream_frames)
        # Best of N (1 = off): N candidates per take (different seeds), scored, the best kept.
        best_row = QHBoxLayout()
        self.best_of_n = _spin(1, 8, 1)
        self.best_of_n.setSpecialValueText("off")
        self.best_of_n.setToolTip("Generate N candidates, score them (WER, similarity, DNSMOS, QC) and keep the "
                                  "best; the others stay in the history as runners-up")
        self.rank_weights_button = QPushButton("Weights…")
        best_row.addWidget(self.best_of_n, 1)
        best_row.addWidget(self.rank_weights_button)
        form.addRow("Best of N", best_row)
        ll.addLayout(form)

        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Generate takes (Ctrl+Return); playback starts with the first audio")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.stop_button)
        ll.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        ll.addWidget(self.progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        ll.addWidget(self.message)
        self.splitter.addWidget(left)

        # ---- right: history and the selected take ----
        right = QWidget()
        rl = QVBoxLayout(right)
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search takes (text, model, seed)")
        self.favourites_only = QCheckBox("★ only")
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.favourites_only)
        rl.addLayout(search_row)
        self.take_list = QListWidget()
        self.take_list.setSelectionMode(QListWidget.ExtendedSelection)
        self.take_list.setMinimumHeight(130)  # a few takes stay in view beside the take's plots
        rl.addWidget(self.take_list, 1)
        actions = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.favourite_button = QPushButton("★")
        self.favourite_button.setCheckable(True)
        self.favourite_button.setToolTip("Mark as favourite")
        self.rerender_button = QPushButton("Re-render")
        self.rerender_button.setToolTip("Generate again from this take's recipe (same seed): same audio on the same device")
        self.export_button = QPushButton("Export…")
        self.delete_button = QPushButton("Delete")
        self.check_watermark_button = QPushButton("Check for watermark")  # wired by synthesize/provenance.py
        self.check_watermark_button.setToolTip("Look for the inaudible AI watermark in this take's saved audio "
                                               "(also in the list's right-click menu)")
        for b in (self.play_button, self.favourite_button, self.rerender_button, self.export_button,
                  self.delete_button, self.check_watermark_button):
            actions.addWidget(b)
        rl.addLayout(actions)
        chunk_row = QHBoxLayout()
        self.chunk_combo = QComboBox()
        self.chunk_combo.setToolTip("A chunk of the selected take")
        self.regenerate_chunk_button = QPushButton("Regenerate chunk")
        self.regenerate_chunk_button.setToolTip("Generate this chunk again with a new seed and splice it in "
                                                "(crossfaded); saved as a new take")
        self.codebooks = _spin(1, 32, 32)
        self.codebooks.setPrefix("codebooks 1..")
        self.hear_codebooks_button = QPushButton("Hear")
        self.hear_codebooks_button.setToolTip("Decode this take's codes with only the first k codebooks")
        chunk_row.addWidget(self.chunk_combo, 1)
        chunk_row.addWidget(self.regenerate_chunk_button)
        chunk_row.addWidget(self.codebooks)
        chunk_row.addWidget(self.hear_codebooks_button)
        rl.addLayout(chunk_row)
        self.take_info = QLabel()
        self.take_info.setWordWrap(True)
        self.take_info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        rl.addWidget(self.take_info)
        self.watermark_result = QLabel()  # the take's "Check for watermark" verdict
        self.watermark_result.setWordWrap(True)
        self.watermark_result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.watermark_result.setVisible(False)
        rl.addWidget(self.watermark_result)
        score_row = QHBoxLayout()  # evaluation (wired by synthesize/scoring.py)
        self.score_button = QPushButton("Score")
        self.score_button.setToolTip("Score this take: ASR word diff, similarity to the voice, DNSMOS, QC")
        self.auto_score = QCheckBox("Score new takes automatically")
        self.promote_button = QPushButton("Keep this one")
        self.promote_button.setToolTip("Make this runner-up the kept take of its best-of-N group")
        self.promote_button.setVisible(False)
        self.watermark_box = QCheckBox("AI watermark")  # wired by synthesize/provenance.py
        score_row.addWidget(self.score_button)
        score_row.addWidget(self.auto_score, 1)
        score_row.addWidget(self.watermark_box)
        score_row.addWidget(self.promote_button)
        rl.addLayout(score_row)
        self.scores = ScoresPanel()
        rl.addWidget(self.scores)
        self.waveform = WaveformView()
        self.mel = MelView()
        self.mel.link_to(self.waveform)
        self.tokens = TokenGrid()
        self.tokens.getPlotItem().setXLink(self.waveform.getPlotItem())  # one time axis for both
        self.tokens.match_right_margin(self.waveform)
        rl.addWidget(self.waveform, 2)
        self.chunk_strip = ChunkStrip()
        self.chunk_strip.getPlotItem().setXLink(self.waveform.getPlotItem())
        self.chunk_strip.setVisible(False)
        rl.addWidget(self.chunk_strip)
        rl.addWidget(self.mel, 2)
        rl.addWidget(self.tokens, 2)
        self.splitter.addWidget(right)
        self.splitter.setSizes([380, 620])
