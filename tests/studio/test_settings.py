import json

from studio.core.paths import get_paths
from studio.core.settings import Settings, load_settings, save_settings


def test_defaults_when_no_file():
    s = load_settings(get_paths().settings_file)
    assert s.last_workspace == "Voices" and s.normalize_lufs == -20.0 and s.output_device is None


def test_round_trip_and_unknown_keys_survive(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"output_device": "USB Mic", "panels": {"Voices": "{}"},
                                "from_a_newer_version": {"x": 1}}))
    s = load_settings(path)
    assert s.output_device == "USB Mic" and s.panels == {"Voices": "{}"}
    s.normalize_lufs = -18
    save_settings(s, path)
    data = json.loads(path.read_text())
    assert data["from_a_newer_version"] == {"x": 1}  # a downgrade does not lose the newer settings
    assert load_settings(path).normalize_lufs == -18.0


def test_corrupt_file_is_moved_aside_not_lost(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{ this is not json")
    s = load_settings(path)
    assert s == Settings()
    kept = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{ this is not json"


def test_wrong_type_falls_back_per_key(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"normalize_lufs": "loud", "output_device": "Speakers"}))
    s = load_settings(path)
    assert s.normalize_lufs == -20.0 and s.output_device == "Speakers"
