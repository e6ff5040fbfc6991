"""Build the Linux bundle, tarball and .deb (what `make package` runs).

    python packaging/build_linux.py [--skip-pyinstaller]

1. icons: the SVG rendered to the hicolor PNG sizes (build/icons/hicolor)
2. PyInstaller: packaging/mynah.spec -> dist/mynah/{mynah,mynah-cli,_internal/}
3. desktop integration copied beside the bundle: dist/mynah/share/{applications,metainfo,icons}
4. dist/mynah-<version>-linux-<arch>.tar.gz (the folder, runnable where it is unpacked)
5. dist/mynah_<version>_<debarch>.deb: /opt/mynah + /usr/bin/{mynah,mynah-cli} symlinks +
   /usr/share desktop file, metainfo and icons. Depends: the Debian packages that own the system
   libraries the bundle links to outside itself (found with ldd + dpkg -S, so the list is what the
   binaries really need on this builder's distribution).
The build time is written to build/package-time.txt for the figures (packaging/check.py prints it).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bundle_tools import APP_ID, bundle_elves, ldd  # noqa: E402  (packaging/bundle_tools.py)

from studio import __version__ as VERSION  # noqa: E402

DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE = DIST / "mynah"
LINUX = ROOT / "packaging" / "linux"
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
# Always present on a desktop that can run the bundle; not worth a Depends line each.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "libc-bin", "zlib1g"}


def step(msg: str) -> None:
    print(f"== {msg}", flush=True)


def render_icons() -> Path:
    out = BUILD / "icons"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, str(ROOT / "packaging" / "icons" / "render_icons.py"), str(out)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return out / "hicolor"


def run_pyinstaller() -> None:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"),
                    str(ROOT / "packaging" / "mynah.spec")], check=True, cwd=ROOT)


def install_share(prefix: Path, hicolor: Path, exec_name: str = "mynah") -> None:
    """applications/, metainfo/ and icons/hicolor/ under prefix (a share/ folder)."""
    apps = prefix / "applications"
    meta = prefix / "metainfo"
    apps.mkdir(parents=True, exist_ok=True)
    meta.mkdir(parents=True, exist_ok=True)
    desktop = (LINUX / f"{APP_ID}.desktop").read_text()
    (apps / f"{APP_ID}.desktop").write_text(desktop.replace("Exec=mynah ", f"Exec={exec_name} ")
                                            .replace("TryExec=mynah\n", f"TryExec={exec_name}\n"))
    shutil.copyfile(LINUX / f"{APP_ID}.metainfo.xml", meta / f"{APP_ID}.metainfo.xml")
    shutil.copytree(hicolor, prefix / "icons" / "hicolor", dirs_exist_ok=True)


def start_tarball() -> tuple[subprocess.Popen, Path]:
    """tar + gzip in the background (it runs beside the .deb's own compression)."""
    name = f"mynah-{VERSION}-linux-{platform.machine()}"
    out = DIST / f"{name}.tar.gz"
    # The folder goes in under a versioned name; gzip -6 from tar (multi-GB Python tarfile is slower).
    proc = subprocess.Popen(["tar", "-C", str(DIST), "--transform", f"s,^mynah,{name},", "-czf", str(out), "mynah"])
    return proc, out


def system_packages(bundle: Path) -> list[str]:
    """Debian packages owning the libraries the bundle's binaries load from the system."""
    system_libs: set[str] = set()
    for elf in bundle_elves(bundle):
        for _name, path in ldd(elf, bundle):
            if path and not Path(path).resolve().is_relative_to(bundle.resolve()):
                system_libs.add(path)
    packages: set[str] = set()
    for lib in sorted(system_libs):
        candidates = {lib, str(Path(lib).resolve())}
        if lib.startswith("/lib/"):
            candidates.add("/usr" + lib)
        for c in candidates:
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
            if r.returncode == 0:
                packages.add(r.stdout.split(":")[0].strip())
                break
    return sorted(packages - BASE_PACKAGES)


def stage_deb(hicolor: Path) -> Path:
    """build/deb: the .deb's file tree (hard links into dist/mynah) and its control file."""
    stage = BUILD / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    opt = stage / "opt" / "mynah"
    shutil.copytree(BUNDLE, opt, symlinks=True, copy_function=os.link)  # hard links: no 1.5 GB copy
    shutil.rmtree(opt / "share", ignore_errors=True)  # desktop files go to /usr/share instead
    bindir = stage / "usr" / "bin"
    bindir.mkdir(parents=True)
    for exe in ("mynah", "mynah-cli"):
        (bindir / exe).symlink_to(f"/opt/mynah/{exe}")
    install_share(stage / "usr" / "share", hicolor)
    size_kb = sum(f.stat().st_size for f in stage.rglob("*") if f.is_file() and not f.is_symlink()) // 1024
    depends = system_packages(BUNDLE)
    control = stage / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: mynah\nVersion: {VERSION}\nArchitecture: {DEB_ARCH}\n"
        "Maintainer: The Mynah developers <mynah@users.noreply.github.com>\n"
        f"Installed-Size: {size_kb}\nSection: sound\nPriority: optional\n"
        f"Depends: {', '.join(depends)}\n"
        "Recommends: pulseaudio | pipewire-pulse\n"
        "Homepage: https://github.com/mynah/mynah\n"
        "Description: desktop voice studio\n"
        " Clone a voice with token-based text-to-speech, compare takes blind and record\n"
        " fine-tuning datasets. Models are downloaded or imported separately.\n")
    return stage


def build_deb(stage: Path) -> Path:
    out = DIST / f"mynah_{VERSION}_{DEB_ARCH}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(stage), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the Linux bundle, tarball and .deb")
    ap.add_argument("--skip-pyinstaller", action="store_true", help="reuse dist/mynah (packaging files only)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    step("icons")
    hicolor = render_icons()
    if not args.skip_pyinstaller:
        step("PyInstaller (one analysis, mynah + mynah-cli)")
        run_pyinstaller()
    t_bundle = time.perf_counter() - t0
    step("desktop integration")
    shutil.rmtree(BUNDLE / "share", ignore_errors=True)
    install_share(BUNDLE / "share", hicolor)
    step("tarball and .deb")
    stage = stage_deb(hicolor)  # before tar starts: adding hard links changes the files' ctime
    tar_proc, tarball = start_tarball()
    deb = build_deb(stage)
    if tar_proc.wait() != 0:
        raise SystemExit(f"tar failed (exit {tar_proc.returncode})")
    total = time.perf_counter() - t0
    BUILD.mkdir(exist_ok=True)
    load = os.getloadavg()
    (BUILD / "package-time.txt").write_text(
        f"total_s={total:.1f} bundle_s={t_bundle:.1f} pyinstaller={not args.skip_pyinstaller} "
        f"loadavg={load[0]:.2f},{load[1]:.2f},{load[2]:.2f} cpus={os.cpu_count()}\n")
    print(f"built {BUNDLE}\n      {tarball}\n      {deb}\nin {total:.0f} s "
          f"(bundle {t_bundle:.0f} s; load average {load[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
