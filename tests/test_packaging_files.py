"""The desktop integration files the installers ship: valid for the tools distributions run on
them, one application id throughout, the audio types Mynah imports registered, and an icon that
renders at every hicolor size."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "packaging"
APP_ID = "io.github.mynah.Mynah"
DESKTOP = PKG / "linux" / f"{APP_ID}.desktop"
METAINFO = PKG / "linux" / f"{APP_ID}.metainfo.xml"


def _desktop_entry() -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read(DESKTOP)
    return cp["Desktop Entry"]


def test_one_application_id_everywhere():
    meta = ET.parse(METAINFO).getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.find("launchable").text == f"{APP_ID}.desktop"
    assert _desktop_entry()["Icon"] == APP_ID
    assert (PKG / "icons" / f"{APP_ID}.svg").is_file()
    spec = (PKG / "mynah.spec").read_text()
    assert f'APP_ID = "{APP_ID}"' in spec and "NSMicrophoneUsageDescription" in spec
    assert f"app-id: {APP_ID}" in (PKG / "flatpak" / f"{APP_ID}.yml").read_text()


def test_desktop_file_registers_the_audio_and_video_types_mynah_imports():
    types = set(_desktop_entry()["MimeType"].strip(";").split(";"))
    for t in ("audio/wav", "audio/x-wav", "audio/flac", "audio/ogg", "audio/mpeg", "audio/mp4",
              "audio/x-m4a", "video/mp4", "video/webm", "audio/webm", "audio/x-ms-wma", "audio/amr"):
        assert t in types, t
    assert _desktop_entry()["Exec"] == "mynah %F"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt: desktop-file-utils; make package-check installs it)")
def test_desktop_file_validates():
    r = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli not installed (apt: appstream; make package-check installs it)")
def test_metainfo_validates():
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_icon_renders_at_every_hicolor_size(tmp_path, qapp):
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_icons", PKG / "icons" / "render_icons.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.render_hicolor(tmp_path)
    from PySide6.QtGui import QImage

    sizes = {}
    for p in written:
        if p.suffix == ".png":
            img = QImage(str(p))
            sizes[img.width()] = img
            assert img.width() == img.height() == int(p.parent.parent.name.split("x")[0])
    assert sorted(sizes) == [16, 22, 24, 32, 48, 64, 128, 256, 512]
    big = sizes[512]
    # Not blank: the corners are transparent (rounded square), the middle is painted.
    assert big.pixelColor(2, 2).alpha() == 0 and big.pixelColor(256, 256).alpha() == 255
