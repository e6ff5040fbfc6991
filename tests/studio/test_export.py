"""Export: every format reads back with the right rate, duration, loudness, tags and sidecar."""
import json
import threading

import numpy as np
import pytest
import soundfile as sf

from studio.core.export import (ExportError, ExportItem, ExportOptions, available_formats,
                                export_batch, export_item, integrated_lufs, read_tags, true_peak_db)


def _speechlike(sr=24000, seconds=3.0, seed=0):
    """Amplitude-modulated harmonics: loud syllables and pauses, like speech for a loudness meter."""
    t = np.arange(int(sr * seconds)) / sr
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / (i + 1) for i, f in enumerate((140, 280, 420, 900)))
    env = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    return (0.2 * x * env).astype(np.float32)


def _item(audio=None, sr=24000, take="t1"):
    return ExportItem(audio=_speechlike(sr) if audio is None else audio, sample_rate=sr, take_id=take,
                      model_id="sesame/csm-1b", voice_name="Ann", text="Hello world, this is a test.",
                      seed=42, recipe={"model_id": "sesame/csm-1b", "seed": 42, "temperature": 0.9})


def test_this_machine_writes_the_promised_formats():
    keys = {f.key for f in available_formats()}
    assert {"wav16", "wav24", "wavf", "flac", "ogg"} <= keys


@pytest.mark.parametrize("fmt", [f.key for f in available_formats()])
def test_every_format_reads_back(tmp_path, fmt):
    target_sr = 16000 if fmt != "opus" else 48000
    res = export_item(_item(), tmp_path, ExportOptions(format_key=fmt, sample_rate=target_sr,
                                                       loudness_lufs=-16.0, true_peak_db=-1.0))
    x, sr = sf.read(str(res.path), dtype="float32")
    assert sr == target_sr
    # Lossy codecs pad a little (encoder delay); MP3 frames round to 1152 samples.
    assert abs(len(x) / sr - 3.0) < 0.08
    assert abs(integrated_lufs(x, sr) - (-16.0)) < 0.5
    tags = read_tags(res.path)
    assert "Synthetic speech" in tags["comment"] and "sesame/csm-1b" in tags["comment"]
    assert tags["title"].startswith("Hello world")
    side = json.loads(res.sidecar.read_text())
    assert side["synthetic_speech"] is True and side["recipe"]["seed"] == 42
    assert side["sample_rate"] == target_sr and side["file"] == res.path.name


def test_broadcast_target_respects_true_peak_ceiling(tmp_path):
    # A quiet signal with one huge spike: reaching -23 LUFS must not push the spike over -1 dBTP.
    x = _speechlike() * 0.05
    x[5000] = 0.9
    res = export_item(_item(x), tmp_path, ExportOptions(format_key="wavf", loudness_lufs=-23.0))
    y, sr = sf.read(str(res.path), dtype="float32")
    assert abs(integrated_lufs(y, sr) + 23.0) < 0.5
    assert true_peak_db(y, sr) <= -0.9


def test_opus_at_an_unsupported_rate_is_resampled_with_a_warning(tmp_path):
    if "opus" not in {f.key for f in available_formats()}:
        pytest.skip("libsndfile without Opus")
    res = export_item(_item(sr=22050, audio=_speechlike(22050)), tmp_path, ExportOptions(format_key="opus"))
    assert res.sample_rate == 24000 and any("Opus" in w for w in res.warnings)


def test_template_names_and_no_overwrite(tmp_path):
    opts = ExportOptions(format_key="wav16", template="{voice}-{seed}-{text}")
    a = export_item(_item(), tmp_path, opts)
    b = export_item(_item(), tmp_path, opts)
    assert a.path.name.startswith("Ann-42-Hello_world") and a.path.suffix == ".wav"
    assert b.path != a.path and a.path.exists() and b.path.exists()
    with pytest.raises(ExportError, match="template"):
        export_item(_item(), tmp_path, ExportOptions(template="{nope}"))


def test_batch_reports_progress_errors_and_cancel(tmp_path):
    items = [_item(take=f"t{i}") for i in range(4)]
    items[1] = _item(audio=np.zeros(0, np.float32), take="empty")
    seen = []
    res = export_batch(items, tmp_path / "all", ExportOptions(format_key="flac"),
                       progress=lambda i, n, t: seen.append((i, n)))
    assert len(res.results) == 3 and len(res.errors) == 1 and "no audio" in res.errors[0]
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    cancel = threading.Event()

    def stop_after_first(i, n, t):
        if i == 1:
            cancel.set()
    res = export_batch(items, tmp_path / "cancelled", ExportOptions(format_key="wav16"),
                       progress=stop_after_first, cancel=cancel)
    assert res.cancelled and len(res.results) + len(res.errors) == 2
    assert not list((tmp_path / "cancelled").glob("*.part"))


@pytest.mark.parametrize("fmt", [f.key for f in available_formats() if f.key in ("mp3", "ogg", "opus")])
def test_lossy_formats_hit_the_loudness_target_on_bright_audio(tmp_path, fmt):
    # Broadband noise loses energy above the encoder's low-pass: the export corrects for it.
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(24000 * 2)).astype(np.float32)
    res = export_item(_item(x), tmp_path, ExportOptions(format_key=fmt, loudness_lufs=-16.0))
    y, sr = sf.read(str(res.path), dtype="float32")
    assert abs(integrated_lufs(y, sr) + 16.0) < 0.5
    assert abs(res.loudness_lufs + 16.0) < 0.5  # the sidecar/result report what the file holds


def test_a_four_minute_take_exports_to_ogg_vorbis(tmp_path):
    """One multi-minute write crashed libsndfile's Vorbis encoder (segfault); the exporter writes in blocks."""
    rng = np.random.default_rng(0)
    audio = np.concatenate([_speechlike(24000, 3.0, seed=int(s)) for s in rng.integers(0, 1000, 80)])  # 240 s
    res = export_item(_item(audio=audio), tmp_path, ExportOptions(format_key="ogg", loudness_lufs=None))
    info = sf.info(str(res.path))
    assert abs(info.duration - 240.0) < 0.1
