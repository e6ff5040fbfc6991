"""Before Qt starts: a desktop missing X11 libraries gets Wayland where it can, else a message
naming the packages to install on Debian/Ubuntu, Fedora and Arch (instead of Qt's abort)."""
import pytest

from studio.ui import platform_check as pc

pytestmark = pytest.mark.skipif(pc.qt_dir() is None or not (pc.qt_dir() / "plugins" / "platforms" / "libqxcb.so").is_file(),
                                reason="PySide6 without its xcb plugin (not a Linux wheel)")


def _qt_tree_missing_xcb_cursor(tmp_path):
    """A copy of PySide6's xcb plugin whose ELF header asks for libxcb-cursor.so.9 (absent on any
    system) instead of .so.0: the loader really cannot find it, as on a desktop without libxcb-cursor0."""
    real = pc.qt_dir()
    for rel in ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6"):
        dst = tmp_path / "Qt" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        data = (real / rel).read_bytes()
        assert b"libxcb-cursor.so.0\0" in data
        dst.write_bytes(data.replace(b"libxcb-cursor.so.0\0", b"libxcb-cursor.so.9\0"))
    return tmp_path / "Qt"


def test_the_libraries_are_read_from_the_plugin_itself():
    needed = pc.elf_needed(pc.qt_dir() / "plugins" / "platforms" / "libqxcb.so")
    assert "libxcb-cursor.so.0" in needed and "libxkbcommon-x11.so.0" in needed
    assert all(n.split(".so")[0] in pc.PACKAGES for n in needed
               if not n.startswith(pc._IGNORE_PREFIXES)), "every system library has its packages"


def test_a_missing_library_is_named_with_the_package_for_each_distribution(tmp_path):
    qt = _qt_tree_missing_xcb_cursor(tmp_path)
    v = pc.check({"DISPLAY": ":0"}, qt=qt)
    assert not v.can_show_window and "libxcb-cursor.so.9" in v.missing
    assert "libxcb-cursor.so.9" in v.message
    assert "sudo apt install libxcb-cursor0" in v.message
    assert "sudo dnf install xcb-util-cursor" in v.message
    assert "sudo pacman -S xcb-util-cursor" in v.message


def test_wayland_serves_when_x11_libraries_are_missing(tmp_path):
    def loadable(name):  # this desktop lacks libxcb-cursor0; its Wayland libraries are fine
        return name if name == "libxcb-cursor.so.0" else None

    env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    v = pc.check(env, loadable=loadable)
    assert v.can_show_window and v.platform == "wayland" and v.missing == ["libxcb-cursor.so.0"]
    applied = dict(env)
    pc.apply(v, applied)
    assert applied["QT_QPA_PLATFORM"] == "wayland"
    # No Wayland session, or the user asked for xcb: the packages are named instead.
    assert "libxcb-cursor0" in pc.check({"DISPLAY": ":0"}, loadable=loadable).message
    assert "libxcb-cursor0" in pc.check({**env, "QT_QPA_PLATFORM": "xcb"}, loadable=loadable).message
    # Wayland's own libraries missing as well: the message says so and names every package.
    v = pc.check(env, loadable=lambda n: n if n in ("libxcb-cursor.so.0", "libwayland-cursor.so.0") else None)
    assert "Wayland plugin cannot load either" in v.message and "libwayland-cursor0" in v.message


def test_other_platforms_and_complete_systems_are_left_alone():
    assert pc.check({"QT_QPA_PLATFORM": "offscreen"}, loadable=lambda n: n).platform is None
    assert pc.check({"QT_QPA_PLATFORM": "offscreen"}, loadable=lambda n: n).can_show_window
    assert pc.check({"DISPLAY": ":0"}, system="darwin", loadable=lambda n: n).can_show_window
    assert pc.check({"DISPLAY": ":0"}, loadable=lambda n: None) == pc.PlatformVerdict(None)
    assert "no desktop" in pc.check({}, loadable=lambda n: None).message


def test_the_app_says_what_to_install_instead_of_aborting(tmp_path, monkeypatch, caplog):
    from studio.ui.app import run_gui

    qt = _qt_tree_missing_xcb_cursor(tmp_path)
    monkeypatch.setattr(pc, "qt_dir", lambda: qt)
    told = []
    monkeypatch.setattr(pc, "tell_desktop_user", told.append)  # no dialog pops up during tests
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert run_gui([]) == 1
    assert len(told) == 1 and "libxcb-cursor.so.9" in told[0] and "sudo apt install libxcb-cursor0" in told[0]
    assert any("sudo dnf install xcb-util-cursor" in r.getMessage() for r in caplog.records), "logged too"


def test_the_module_prints_its_verdict(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "studio.ui.platform_check"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}, timeout=60)
    assert out.returncode == 0 and "can open" in out.stdout
