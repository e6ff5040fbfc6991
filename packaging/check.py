"""Prove the built Linux bundle in a clean environment and print its figures (`make package-check`).

    python packaging/check.py [--runs 3] [--window-timeout 90]

Every program runs under `env -i` with only PATH, HOME (a fresh temporary folder) and, for the
window, DISPLAY: nothing from the developer's shell or venv leaks in.
  1. ldd over every ELF file in the bundle: no library resolves to "not found"
  2. `mynah-cli --version` prints the version; `mynah-cli self-check --strict` exits 0
  3. the .deb's payload, unpacked with dpkg-deb -x, runs `mynah-cli --version` too
  4. `mynah` shows its window under Xvfb (`xdotool search --sync --onlyvisible --name Mynah`),
     timed from launch to the window, median of --runs launches
  5. desktop-file-validate and `appstreamcli validate --no-net` pass on the installed files
Figures: bundle size unpacked, tarball and .deb sizes, launch-to-window median, `make package`
time (from build/package-time.txt), each with the machine's load average.
Exit code 0 when every check passed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bundle_tools import APP_ID, bundle_elves, cpu_load, ldd, tree_size  # packaging/bundle_tools.py

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUNDLE = DIST / "mynah"
PATH = "/usr/local/bin:/usr/bin:/bin"
sys.path.insert(0, str(ROOT))
from studio import __version__ as VERSION  # noqa: E402

results: list[tuple[str, bool, str]] = []


def record(name: str, ok: bool, detail: str = "") -> bool:
    results.append((name, ok, detail))
    print(f"  {'ok  ' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    return ok


def clean_env(home: Path, **extra: str) -> list[str]:
    return ["env", "-i", f"PATH={PATH}", f"HOME={home}", *(f"{k}={v}" for k, v in extra.items())]


def check_libraries() -> None:
    elves = bundle_elves(BUNDLE)
    missing = []
    for elf in elves:
        for name, path in ldd(elf, BUNDLE):
            if path is None:
                missing.append(f"{elf.relative_to(BUNDLE)} needs {name}")
    record("libraries resolve", not missing and bool(elves),
           f"{len(elves)} ELF files, none with a 'not found' library" if not missing
           else f"{len(missing)} missing: " + "; ".join(missing[:20]))


def check_cli(home: Path, exe: Path, label: str) -> None:
    r = subprocess.run([*clean_env(home), str(exe), "--version"], capture_output=True, text=True, timeout=120)
    out = (r.stdout + r.stderr).strip()
    record(f"{label} --version", r.returncode == 0 and out == f"mynah {VERSION}", repr(out[-300:]))


def check_self_check(home: Path) -> None:
    t0 = time.perf_counter()
    r = subprocess.run([*clean_env(home), str(BUNDLE / "mynah-cli"), "self-check", "--strict"],
                       capture_output=True, text=True, timeout=600)
    print("\n".join("      " + line for line in (r.stdout + r.stderr).rstrip().splitlines()))
    last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
    record("mynah-cli self-check --strict", r.returncode == 0, f"{last} in {time.perf_counter() - t0:.1f} s")


def check_qc_worker(home: Path) -> None:
    """The dataset QC worker is started as `sys.executable -m studio.core.qc_worker`; in the bundle
    sys.executable is `mynah`, which must run the module and answer, not open a second studio.
    stdin stays open until the reply is read, as the app keeps it: the worker leaves at once on EOF."""
    p = subprocess.Popen([*clean_env(home), str(BUNDLE / "mynah"), "-m", "studio.core.qc_worker"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, p.kill)  # a worker that never answers ends the read below
    watchdog.start()
    try:
        p.stdin.write('{"op": "ping", "id": 1}\n')
        p.stdin.flush()
        reply = p.stdout.readline().strip()
    finally:
        watchdog.cancel()
        p.stdin.close()
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
    err = p.stderr.read()
    record("mynah -m studio.core.qc_worker answers", reply.startswith("{"), reply[:200] or repr(err[-300:]))


def check_deb(home: Path) -> None:
    debs = sorted(DIST.glob(f"mynah_{VERSION}_*.deb"))
    if not record(".deb built", bool(debs), str(debs[-1].name if debs else "none in dist/")):
        return
    root = home / "deb-root"
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
    listing = subprocess.run(["dpkg-deb", "-c", str(debs[-1])], capture_output=True, text=True).stdout
    links_ok = all(f"./usr/bin/{e} -> /opt/mynah/{e}" in listing for e in ("mynah", "mynah-cli"))
    record(".deb symlinks /usr/bin -> /opt/mynah", links_ok, "mynah, mynah-cli")
    check_cli(home, root / "opt" / "mynah" / "mynah-cli", ".deb payload mynah-cli")
    share = root / "usr" / "share"
    icons = sorted(p.parent.parent.name for p in (share / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.*"))
    record(".deb icons", "scalable" in icons and "512x512" in icons and "16x16" in icons, ", ".join(icons))
    check_validators(share)


def check_validators(share: Path) -> None:
    desktop = share / "applications" / f"{APP_ID}.desktop"
    r = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    record("desktop-file-validate", r.returncode == 0 and "error" not in r.stdout.lower(),
           (r.stdout + r.stderr).strip() or "clean")
    meta = share / "metainfo" / f"{APP_ID}.metainfo.xml"
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(meta)], capture_output=True, text=True)
    lines = (r.stdout + r.stderr).strip().splitlines()
    record("appstreamcli validate --no-net", r.returncode == 0, "; ".join(lines[-3:]) or "clean")


def free_display() -> int:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def launch_to_window(cmd: list[str], home: Path, display: str, timeout: float) -> float | None:
    """Seconds from starting `cmd` to a visible window named Mynah; None when it never shows."""
    log = open(home / "mynah-gui.log", "w")
    t0 = time.perf_counter()
    app = subprocess.Popen([*clean_env(home, DISPLAY=display), *cmd], stdout=log, stderr=log)
    try:
        r = subprocess.run([*clean_env(home, DISPLAY=display), "xdotool", "search", "--sync", "--onlyvisible",
                            "--name", "Mynah"], capture_output=True, text=True, timeout=timeout)
        shown = time.perf_counter() - t0 if r.returncode == 0 and r.stdout.strip() else None
    except subprocess.TimeoutExpired:
        shown = None
    finally:
        alive = app.poll() is None
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        log.close()
    if shown is None:
        tail = (home / "mynah-gui.log").read_text(errors="replace")[-1500:]
        print(f"      window did not show (app {'still running' if alive else 'exited'}); its output:\n{tail}")
    return shown


def check_torch_not_at_startup(home: Path, display: str, timeout: float) -> None:
    """The studio's own start-up probe (MYNAH_SMOKE_EXIT, see studio/ui/app.py) in the bundle: the
    window is visible before torch is imported, and the first workspace builds."""
    run_home = home / "gui-smoke"
    run_home.mkdir()
    try:
        r = subprocess.run([*clean_env(run_home, DISPLAY=display, MYNAH_SMOKE_EXIT="1500"), str(BUNDLE / "mynah")],
                           capture_output=True, text=True, timeout=timeout)
        out = r.stdout
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    shown = next((ln for ln in out.splitlines() if ln.startswith("MYNAH_SHOWN")), "")
    ready = next((ln for ln in out.splitlines() if ln.startswith("MYNAH_READY")), "")
    record("window before torch, workspace built", "torch=False" in shown and "visible=True" in shown
           and "workspace=True" in ready, f"{shown.split(' log=')[0]} | {ready}" if shown else repr(out[-300:]))


def check_window(home: Path, runs: int, timeout: float) -> tuple[list[float], list[float]]:
    """Launch-to-window times of the bundle and, as the reference, of the source tree's venv
    (`python -m studio`), alternating, each launch with a fresh HOME (a first run)."""
    n = free_display()
    display = f":{n}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: list[float] = []
    source: list[float] = []
    venv_python = ROOT / ".venv" / "bin" / "python"
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            time.sleep(0.1)
        for i in range(runs):
            run_home = home / f"gui-{i}"
            run_home.mkdir()
            t = launch_to_window([str(BUNDLE / "mynah")], run_home, display, timeout)
            if t is None:
                break
            times.append(t)
            if venv_python.exists():
                ref_home = home / f"gui-source-{i}"
                ref_home.mkdir()
                t = launch_to_window([str(venv_python), "-m", "studio"], ref_home, display, timeout)
                if t is not None:
                    source.append(t)
        check_torch_not_at_startup(home, display, timeout)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    record("window shows under Xvfb", len(times) == runs,
           f"{len(times)}/{runs} launches, " + ", ".join(f"{t:.2f} s" for t in times))
    return times, source


def figures(window_times: list[float], source_times: list[float]) -> None:
    print("\nFigures (load average " + cpu_load() + ")")
    print(f"  bundle unpacked        {tree_size(BUNDLE) / 2**20:8.0f} MiB  ({BUNDLE.relative_to(ROOT)})")
    for p in sorted(DIST.glob(f"mynah-{VERSION}-linux-*.tar.gz")) + sorted(DIST.glob(f"mynah_{VERSION}_*.deb")):
        print(f"  {p.suffix[1:] if p.suffix == '.deb' else 'tar.gz':<22} {p.stat().st_size / 2**20:8.0f} MiB  ({p.name})")
    if window_times:
        print(f"  launch to window       {statistics.median(window_times):8.2f} s    median of "
              f"{len(window_times)} ({', '.join(f'{t:.2f}' for t in window_times)}), Xvfb, empty environment")
    if source_times:
        print(f"  ... from source (ref)  {statistics.median(source_times):8.2f} s    median of "
              f"{len(source_times)} ({', '.join(f'{t:.2f}' for t in source_times)}), .venv python -m studio")
    timing = ROOT / "build" / "package-time.txt"
    print(f"  make package           {timing.read_text().strip() if timing.exists() else 'no build/package-time.txt'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="launches timed for the window figure")
    ap.add_argument("--window-timeout", type=float, default=90.0)
    args = ap.parse_args(argv)
    if not (BUNDLE / "mynah-cli").is_file():
        print(f"no bundle at {BUNDLE}: run `make package` first")
        return 1
    missing = [t for t in ("ldd", "Xvfb", "xdotool", "desktop-file-validate", "appstreamcli", "dpkg-deb")
               if shutil.which(t) is None]
    if missing:
        print(f"missing tools: {', '.join(missing)} (make package-check installs them as root)")
        return 1
    print(f"Checking {BUNDLE} (mynah {VERSION}) in an empty environment")
    with tempfile.TemporaryDirectory(prefix="mynah-package-check-") as tmp:
        home = Path(tmp)
        check_libraries()
        check_cli(home, BUNDLE / "mynah-cli", "mynah-cli")
        check_cli(home, BUNDLE / "mynah", "mynah")
        check_self_check(home)
        check_qc_worker(home)
        check_deb(home)
        times, source = check_window(home, args.runs, args.window_timeout)
    figures(times, source)
    failed = [name for name, ok, _ in results if not ok]
    print(f"\n{len(results) - len(failed)}/{len(results)} checks passed" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
