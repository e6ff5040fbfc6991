"""Import of every format and of the bad-file corpus: clear errors, nothing crashes."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.audio.io import AudioFileError, probe, read_audio, write_audio
from tests.bad_audio import CASE_NAMES, make_corpus, tone
from tests.container_audio import skip_reason


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {c.name: c for c in make_corpus(tmp_path_factory.mktemp("bad-audio"))}


def _case(corpus, name):
    if name not in corpus:
        pytest.skip(skip_reason(name))
    return corpus[name]


def test_corpus_names_are_complete(corpus):
    assert set(corpus) <= set(CASE_NAMES) and len(corpus) == len(set(corpus))
    for name in set(CASE_NAMES) - set(corpus):
        assert "encoder" in skip_reason(name), f"{name} is missing for no reason"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_file_loads_or_fails_clearly(corpus, name):
    case = _case(corpus, name)
    if not case.loads:
        with pytest.raises(AudioFileError) as err:
            read_audio(case.path)
        msg = str(err.value)
        assert case.path.name in msg, "the message must name the file"
        assert case.error_contains in msg.lower()
        with pytest.raises(AudioFileError):
            probe(case.path)
        return
    audio = read_audio(case.path)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1, "working copy is mono float"
    assert np.all(np.isfinite(audio.samples))
    assert audio.sample_rate == case.sample_rate
    assert audio.info.channels == case.channels
    if case.duration_s is not None:
        assert audio.duration_s == pytest.approx(case.duration_s, abs=case.duration_tol)
    if case.warning_contains:
        assert any(case.warning_contains in w.lower() for w in audio.warnings), audio.warnings
    else:
        assert audio.warnings == []


def test_tone_survives_every_lossless_format(corpus):
    for name in ("FLAC 44100 Hz", "AIFF 11025 Hz PCM_16", "WAV 48000 Hz PCM_24"):
        a = read_audio(corpus[name].path)
        ref = tone(a.sample_rate, 6.0, 330.0)
        if a.info.channels == 2:
            ref = ref * 0.75  # mono downmix of (x, 0.5 x)
        assert np.max(np.abs(a.samples - ref)) < 1e-3, name


def test_multichannel_kept_when_not_downmixing(corpus):
    a = read_audio(corpus["8 channels at 96 kHz"].path, mono=False)
    assert a.samples.shape == (192000, 8)
    # channel 3 is a 800 Hz tone: its spectrum peaks there
    spec = np.abs(np.fft.rfft(a.samples[:, 3]))
    assert np.argmax(spec) * 96000 / 192000 == pytest.approx(800, abs=1)


def test_nan_samples_replaced_by_silence_not_dropped(corpus):
    a = read_audio(corpus["NaN/inf samples"].path)
    assert len(a.samples) == 144000
    assert np.all(a.samples[100:110] == 0) and a.samples[2000] == 0


def test_target_sr_resamples(corpus):
    a = read_audio(corpus["FLAC 44100 Hz"].path, target_sr=24000)
    assert a.sample_rate == 24000 and len(a.samples) == pytest.approx(6 * 24000, abs=2)
    spec = np.abs(np.fft.rfft(a.samples))
    assert np.argmax(spec) / 6.0 == pytest.approx(330, abs=1)


def test_missing_file_and_folder_messages(tmp_path):
    with pytest.raises(AudioFileError, match="was not found"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioFileError, match="is a folder"):
        read_audio(tmp_path)


def test_write_roundtrip_and_failed_write_keeps_old_file(tmp_path):
    x = tone(24000, 1.0)
    p = write_audio(tmp_path / "a.wav", x, 24000)
    assert sf.info(str(p)).subtype == "FLOAT"
    assert np.allclose(read_audio(p).samples, x)
    with pytest.raises(AudioFileError, match="unknown audio format"):
        write_audio(tmp_path / "a.xyz", x, 24000)
    with pytest.raises(AudioFileError):
        write_audio(p, x, 24000, subtype="NOT_A_SUBTYPE")
    assert np.allclose(read_audio(p).samples, x), "a failed save must not damage the existing file"
    assert [f.name for f in tmp_path.iterdir()] == ["a.wav"], "no temporary file left behind"
    flac = write_audio(tmp_path / "b.flac", np.stack([x, -x], 1), 24000)
    assert read_audio(flac, mono=False).samples.shape == (24000, 2)


def test_probe_is_header_only_and_matches(corpus):
    info = probe(corpus["2-hour file"].path)
    assert info.duration_s == pytest.approx(7200.0) and info.format == "FLAC"


def test_real_speech_loads(speech_clips):
    for row in speech_clips[:4]:
        a = read_audio(row["path"])
        assert a.duration_s > 1.0 and np.max(np.abs(a.samples)) > 0.05


def test_nan_does_not_smear_when_resampling(corpus):
    a = read_audio(corpus["NaN/inf samples"].path, target_sr=16000)
    assert np.all(np.isfinite(a.samples)) and len(a.samples) == 96000
    assert any("12 invalid samples" in w for w in a.warnings)
    ref = tone(16000, 6.0)
    assert np.max(np.abs(a.samples[2000:] - ref[2000:])) < 0.05, "only the damaged spots differ"


def test_downmix_and_resample_of_stereo_match_the_simple_path(corpus):
    path = corpus["WAV 48000 Hz PCM_24"].path
    both = read_audio(path, mono=False).samples
    from engine.audio.resample import resample

    expected = resample(both.mean(axis=1), 48000, 22050)
    got = read_audio(path, target_sr=22050).samples
    assert len(got) == len(expected)
    assert np.max(np.abs(got[100:-100] - expected[100:-100])) < 1e-3


def test_media_containers_keep_the_sound(corpus):
    """ALAC is lossless: the tone comes back sample-exact (to 16 bits); AAC, Opus, WMA and AMR keep
    its pitch; the stereo ALAC memo keeps both channels when asked."""
    alac = read_audio(_case(corpus, "M4A ALAC 48000 Hz stereo").path, mono=False)
    ref = tone(48000, 4.0, 330.0)
    assert alac.samples.shape == (len(ref), 2)
    assert np.max(np.abs(alac.samples[:, 0] - ref)) < 1e-4 and np.max(np.abs(alac.samples[:, 1] - ref * 0.5)) < 1e-4
    for name in ("M4A AAC 44100 Hz", "MP4 video + AAC", "WEBM Opus", "WMA 22050 Hz", "AMR 8000 Hz", "MKV AAC"):
        if name not in corpus:
            continue  # (its encoder is missing: test_corpus_file_loads_or_fails_clearly says so)
        a = read_audio(corpus[name].path)
        spec = np.abs(np.fft.rfft(a.samples))
        assert np.argmax(spec) * a.sample_rate / len(a.samples) == pytest.approx(330, abs=2), name
        assert a.info.decoder == "ffmpeg"


def test_container_resamples_and_reports_progress(corpus):
    seen = []
    a = read_audio(_case(corpus, "MKV AAC").path, target_sr=16000, on_block=lambda buf, n: seen.append(n))
    assert a.sample_rate == 16000 and a.duration_s == pytest.approx(4.0, abs=0.08)
    assert seen and seen[-1] == len(a.samples), "the last progress report covers the whole file"


def test_container_without_a_known_length_still_loads_whole(corpus, monkeypatch):
    """A browser's live .webm has no duration in its header: the buffer grows as it decodes."""
    from engine.audio import container

    real = container.probe_container
    monkeypatch.setattr(container, "probe_container", lambda p: {**real(p), "frames": 0})
    a = read_audio(_case(corpus, "WEBM Opus").path)
    assert a.duration_s == pytest.approx(4.0, abs=0.08) and not a.warnings


def test_container_messages_name_the_file_and_the_problem(tmp_path, monkeypatch, corpus):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video at all\n" * 50)
    with pytest.raises(AudioFileError, match="notes.mp4 is not a readable audio file"):
        read_audio(fake)
    monkeypatch.setitem(__import__("sys").modules, "av", None)  # an install without PyAV
    with pytest.raises(AudioFileError, match="needs PyAV"):
        read_audio(_case(corpus, "M4A AAC 44100 Hz").path)
