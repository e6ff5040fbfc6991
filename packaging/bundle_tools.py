"""Helpers shared by build_linux.py and check.py: the bundle's ELF files and what ldd makes of them."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

APP_ID = "io.github.mynah.Mynah"
ELF_MAGIC = b"\x7fELF"


def bundle_elves(bundle: Path) -> list[Path]:
    """Every ELF file in the bundle (executables, .so and .so.N), symlinks left out."""
    out = []
    for p in sorted(bundle.rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        if p.suffix not in (".so", "") and ".so." not in p.name:
            continue
        with open(p, "rb") as f:
            if f.read(4) == ELF_MAGIC:
                out.append(p)
    return out


def ldd(elf: Path, bundle: Path) -> list[tuple[str, str | None]]:
    """(soname, resolved path or None when "not found") as the bundled program would load it.

    The PyInstaller bootloader puts its _internal folder on LD_LIBRARY_PATH, so ldd gets the same
    search path (and nothing else from the caller's environment)."""
    internal = bundle / "_internal"
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(internal if internal.is_dir() else bundle)}
    r = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env)
    deps = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "=>" not in line:
            continue
        name, _, rest = line.partition("=>")
        rest = rest.strip()
        deps.append((name.strip(), None if rest.startswith("not found") else rest.split(" (")[0].strip() or None))
    return deps


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def cpu_load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}, {b:.2f}, {c:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"
