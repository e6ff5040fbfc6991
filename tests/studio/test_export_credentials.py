"""Exports state the AI watermark (tags, sidecar) and carry signed C2PA content credentials that
read back and verify: embedded in WAV/FLAC/MP3, beside Ogg files; tampering is caught."""
from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from engine.provenance.credentials import read_credentials
from studio.core.export import ExportItem, ExportOptions, available_formats, export_item, read_tags

STAMP = {"method": "perth-implicit", "model": "perth_net_250000", "version": "resemble-perth 1.0.1",
         "weights_sha256": "a15bce457ebc53ce"}


def _item(watermark=STAMP):
    t = np.arange(24000 * 2) / 24000
    audio = (0.2 * np.sin(2 * np.pi * 180 * t) * np.clip(np.sin(2 * np.pi * 2 * t), 0, None)).astype(np.float32)
    return ExportItem(audio=audio, sample_rate=24000, take_id="t1", model_id="sesame/csm-1b", voice_name="Ann",
                      text="Hello there.", seed=1, watermark=watermark, voice_consent=True)


@pytest.mark.parametrize("fmt", ["wav16", "flac", "mp3"])
def test_embedded_manifest_reads_back_valid_and_states_what_made_it(tmp_path, fmt):
    if fmt not in {f.key for f in available_formats()}:
        pytest.skip(f"libsndfile here cannot write {fmt}")
    keys = tmp_path / "credentials"
    res = export_item(_item(), tmp_path / "out", ExportOptions(format_key=fmt, credentials_dir=keys))
    creds = read_credentials(res.path)
    assert creds is not None and creds.where == "embedded"
    assert creds.valid and creds.synthetic and not creds.trusted  # self-made signer: valid, not in a trust list
    assert creds.generator.startswith("Mynah") and creds.signer == "Mynah content credentials"
    d = creds.details
    assert d["model"] == "sesame/csm-1b" and d["voice"] == "Ann" and d["voice_consent"] is True
    assert d["watermark"]["model"] == "perth_net_250000" and d["created"]
    side = json.loads(res.sidecar.read_text())
    assert side["content_credentials"]["c2pa"] == "embedded"
    assert side["watermark"]["present"] is True and side["voice_consent"] is True
    import soundfile as sf

    x, sr = sf.read(str(res.path))  # still plays
    assert sr == 24000 and abs(len(x) / sr - 2.0) < 0.1


def test_ogg_gets_its_manifest_beside_it(tmp_path):
    res = export_item(_item(), tmp_path / "out", ExportOptions(format_key="ogg", credentials_dir=tmp_path / "k"))
    store = res.path.with_name(res.path.name + ".c2pa")
    assert store.is_file()
    creds = read_credentials(res.path)
    assert creds.where == "sidecar" and creds.valid and creds.synthetic
    assert creds.details["watermark"]["method"] == "perth-implicit"
    side = json.loads(res.sidecar.read_text())
    cc = side["content_credentials"]
    assert cc["c2pa"] == "sidecar" and cc["manifest_file"] == store.name
    assert cc["manifest"]["assertions"][1]["data"]["model"] == "sesame/csm-1b"


def test_changed_audio_fails_verification(tmp_path):
    res = export_item(_item(), tmp_path / "out", ExportOptions(format_key="wav16", credentials_dir=tmp_path / "k"))
    data = bytearray(res.path.read_bytes())
    at = data.index(b"data") + 8 + 2000  # one sample inside the audio data
    data[at] ^= 0x55
    res.path.write_bytes(bytes(data))
    creds = read_credentials(res.path)
    assert creds is not None and not creds.valid and creds.problems


def test_signing_key_is_made_once_and_private(tmp_path):
    keys = tmp_path / "k"
    export_item(_item(), tmp_path / "a", ExportOptions(format_key="wav16", credentials_dir=keys))
    chain = (keys / "signer.pem").read_bytes()
    assert stat.S_IMODE(os.stat(keys / "signer.key").st_mode) == 0o600
    assert chain.count(b"BEGIN CERTIFICATE") == 2  # signer + the user's local root
    export_item(_item(), tmp_path / "b", ExportOptions(format_key="wav16", credentials_dir=keys))
    assert (keys / "signer.pem").read_bytes() == chain


def test_tags_and_sidecar_say_when_there_is_no_watermark(tmp_path):
    res = export_item(_item(watermark=None), tmp_path, ExportOptions(format_key="flac"))
    assert "no AI watermark" in read_tags(res.path)["comment"]
    side = json.loads(res.sidecar.read_text())
    assert side["watermark"]["present"] is False and side["content_credentials"] is None
    res = export_item(_item(), tmp_path, ExportOptions(format_key="flac"))
    assert "AI watermark: perth-implicit (perth_net_250000)" in read_tags(res.path)["comment"]


def test_a_plain_recording_has_no_credentials(tmp_path):
    import soundfile as sf

    p = tmp_path / "rec.wav"
    sf.write(p, np.zeros(1000, np.float32), 16000)
    assert read_credentials(p) is None
