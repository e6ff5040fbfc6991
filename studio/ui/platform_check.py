"""Before the QApplication exists: can Qt open a window on this desktop?

Qt's xcb (X11) plugin links two dozen system libraries that a minimal Debian/Ubuntu desktop may
lack (libxcb-cursor0 most often, since Qt 6.5); without them Qt prints a cryptic line and aborts.
This module reads which libraries the plugin needs from its own ELF header (so a PySide6 update
keeps it true), asks the dynamic loader for each, and then picks: X11 as usual; Wayland when the
X11 libraries are missing but a Wayland session and Qt's wayland plugin can serve; or a message
that names the packages to install on Debian/Ubuntu, Fedora and Arch. No Qt import here (a failed
plugin load cannot be retried once Qt has started). Costs a few milliseconds.

`python -m studio.ui.platform_check` prints the verdict (the Makefile's `run` uses it).
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Library (soname without ".so.N") -> (Debian/Ubuntu, Fedora, Arch) package. Every system library
# libqxcb.so and libQt6XcbQpa.so.6 link (PySide6 6.6-6.11), plus what the wayland plugin links.
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-util": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-image": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-render-util": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-randr": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shm": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-render": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xkb": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb-xinerama": ("libxcb-xinerama0", "libxcb", "libxcb"),
    "libxcb": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libGL": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libglib-2.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0": ("libglib2.0-0", "glib2", "glib2"),
    "libfontconfig": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libwayland-client": ("libwayland-client0", "libwayland-client", "wayland"),
    "libwayland-cursor": ("libwayland-cursor0", "libwayland-cursor", "wayland"),
}
DISTROS = ("Debian/Ubuntu", "Fedora", "Arch")
_INSTALL = ("sudo apt install", "sudo dnf install", "sudo pacman -S")
# Libraries every system has (a missing one is not Qt's problem) or that PySide6 ships itself.
_IGNORE_PREFIXES = ("libQt6", "libicu", "libstdc++", "libm.so", "libgcc_s", "libc.so", "libpthread",
                    "libdl.so", "ld-linux")


@dataclass
class PlatformVerdict:
    platform: str | None  # what QT_QPA_PLATFORM should be set to (None: leave Qt's choice)
    missing: list[str] = field(default_factory=list)  # sonames the xcb plugin cannot load
    message: str = ""  # for the user when no window can open; empty when one can

    @property
    def can_show_window(self) -> bool:
        return not self.message


def qt_dir() -> Path | None:
    """PySide6's Qt folder, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt"


def elf_needed(path: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF shared object ([] for anything else)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:  # ELFCLASS64, little endian
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out: list[str] = []
    for sh in sections:
        if sh[1] != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[sh[6]]  # sh_link: its string table
        str_off = strtab[4]
        for k in range(sh[5] // 16):
            tag, val = struct.unpack_from("<qQ", data, sh[4] + 16 * k)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", str_off + val)
                out.append(data[str_off + val:end].decode())
    return out


def _loadable(soname: str) -> str | None:
    """None when the dynamic loader finds `soname` and its own dependencies; else the soname that
    is actually missing (dlopen's error names it)."""
    try:
        ctypes.CDLL(soname, mode=os.RTLD_LAZY | getattr(os, "RTLD_LOCAL", 0))
        return None
    except OSError as exc:
        text = str(exc)
        first = text.split(":", 1)[0].strip()
        return first if first.startswith("lib") else soname


def missing_libraries(plugin: str, qt: Path | None = None, loadable=_loadable) -> list[str]:
    """System libraries Qt's `plugin` (xcb, wayland) needs that cannot be loaded."""
    qt = qt or qt_dir()
    if qt is None:
        return []
    so = qt / "plugins" / "platforms" / f"libq{plugin}.so"
    if not so.is_file():
        return [f"libq{plugin}.so"]
    qpa = {"xcb": "libQt6XcbQpa.so.6", "wayland": "libQt6WaylandClient.so.6"}[plugin]
    needed: list[str] = []
    for name in elf_needed(so) + elf_needed(qt / "lib" / qpa):
        if name not in needed and not name.startswith(_IGNORE_PREFIXES):
            needed.append(name)
    missing = []
    for name in needed:
        bad = loadable(name)
        if bad and bad not in missing:
            missing.append(bad)
    return missing


def install_advice(missing: list[str]) -> str:
    lines = []
    for distro, cmd, i in zip(DISTROS, _INSTALL, range(3)):
        pkgs = []
        for name in missing:
            pkg = PACKAGES.get(name.split(".so")[0], (None, None, None))[i]
            if pkg and pkg not in pkgs:
                pkgs.append(pkg)
        if pkgs:
            lines.append(f"  {distro + ':':15s}{cmd} {' '.join(pkgs)}")
    return "\n".join(lines) or "  (no package is known for them: search your distribution's packages)"


def check(env=None, *, qt: Path | None = None, loadable=_loadable, system: str = sys.platform) -> PlatformVerdict:
    """What Qt should use on this machine; nothing is changed here (see `apply`)."""
    env = os.environ if env is None else env
    if not system.startswith("linux"):
        return PlatformVerdict(None)
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return PlatformVerdict(None)  # the user (or a test) picked offscreen, wayland, vnc...
    has_x, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not has_x and not has_wayland:
        return PlatformVerdict(None, message=(
            "Mynah found no desktop to open its window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
            "Start it from a desktop session; on a server use the command line (mynah --help)."))
    missing = missing_libraries("xcb", qt, loadable)
    if not missing:
        return PlatformVerdict(None)
    wayland_note = ""
    if has_wayland and not chosen:
        wayland_missing = missing_libraries("wayland", qt, loadable)
        if not wayland_missing:
            return PlatformVerdict("wayland", missing)  # a Wayland desktop: no X11 libraries needed
        wayland_note = " (Qt's Wayland plugin cannot load either)"
        missing += [m for m in wayland_missing if m not in missing]
    return PlatformVerdict(None, missing, (
        f"Mynah's window needs system libraries that are not installed{wayland_note}: "
        f"{', '.join(missing)}.\nInstall them, then start Mynah again:\n{install_advice(missing)}"))


def tell_desktop_user(message: str) -> None:
    """Started from a desktop menu there is no terminal to read: show the message with whatever
    dialog tool the desktop has (best effort; the log and stderr have it anyway)."""
    if sys.stderr is not None and sys.stderr.isatty():
        return
    import shutil
    import subprocess

    for cmd in (["zenity", "--error", "--title=Mynah", f"--text={message}"],
                ["kdialog", "--title", "Mynah", "--error", message], ["xmessage", "-center", message]):
        if shutil.which(cmd[0]):
            try:
                subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
                return
            except OSError:
                continue


def apply(verdict: PlatformVerdict, env=None) -> None:
    env = os.environ if env is None else env
    if verdict.platform:
        env["QT_QPA_PLATFORM"] = verdict.platform


def main() -> int:
    v = check()
    if v.can_show_window:
        how = f" (through {v.platform}; X11 lacks {', '.join(v.missing)})" if v.platform else ""
        print(f"Qt can open Mynah's window here{how}.")
        return 0
    print(v.message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
