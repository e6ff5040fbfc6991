"""What this machine can run, for the first-run guide: accelerator (CUDA / Apple MPS / CPU), memory,
free disk, and the catalog model that suits it. No Qt, no torch import (`nvidia-smi` answers for
CUDA without loading a 1 GB library); `detect_hardware` may take ~0.1 s: call it off the GUI thread.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.hub.catalog import CATALOG, CatalogEntry, human_size

# Below this much GPU memory a 1B model in bf16 plus its KV cache and codec does not fit comfortably.
MIN_GPU_BYTES = 6 * 1024 ** 3


@dataclass(frozen=True)
class Hardware:
    accelerator: str  # "cuda" | "mps" | "cpu"
    device_name: str  # "NVIDIA RTX 4090", "Apple M2", or the CPU's name
    device_memory_bytes: int  # GPU memory (CUDA); 0 when unknown or shared
    ram_bytes: int
    free_disk_bytes: int  # where the data directory (and the model cache) lives
    cpu_count: int

    def summary_lines(self) -> list[str]:
        acc = {"cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (Metal)", "cpu": "CPU only"}[self.accelerator]
        gpu_mem = f", {human_size(self.device_memory_bytes)}" if self.device_memory_bytes else ""
        return [f"Runs models on: {acc} — {self.device_name}{gpu_mem}",
                f"Memory: {human_size(self.ram_bytes)} · {self.cpu_count} CPU threads",
                f"Free disk for models and recordings: {human_size(self.free_disk_bytes)}"]


@dataclass(frozen=True)
class Recommendation:
    entry: CatalogEntry
    why: str
    steps: list[str] = field(default_factory=list)  # what to do, in order (token/licence when gated)
    warnings: list[str] = field(default_factory=list)  # disk or memory too small


def _nvidia_gpu() -> tuple[str, int] | None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    name, _, mib = out.stdout.strip().splitlines()[0].rpartition(",")
    try:
        return name.strip(), int(float(mib)) * 1024 * 1024
    except ValueError:
        return name.strip() or "NVIDIA GPU", 0


def _ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX (Windows): ask the C runtime
        try:
            import ctypes

            class MemStatus(ctypes.Structure):
                _fields_ = [("len", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                            ("avail", ctypes.c_ulonglong), ("pt", ctypes.c_ulonglong), ("pa", ctypes.c_ulonglong),
                            ("vt", ctypes.c_ulonglong), ("va", ctypes.c_ulonglong), ("ve", ctypes.c_ulonglong)]

            m = MemStatus()
            m.len = ctypes.sizeof(m)
            ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(m))
            return int(m.total)
        except Exception:
            return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def detect_hardware(data_dir: Path) -> Hardware:
    existing = Path(data_dir)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    ram, cpus = _ram_bytes(), os.cpu_count() or 1
    gpu = _nvidia_gpu()
    if gpu is not None:
        return Hardware("cuda", gpu[0], gpu[1], ram, free, cpus)
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return Hardware("mps", "Apple silicon", 0, ram, free, cpus)
    return Hardware("cpu", _cpu_name(), 0, ram, free, cpus)


def recommend_model(hw: Hardware, catalog: tuple[CatalogEntry, ...] = CATALOG) -> Recommendation:
    """The catalog entry for this machine: a CPU-real-time model where there is no usable GPU (when
    the catalog has one), else the best voice cloner; with the steps to get it."""
    gpu_ok = hw.accelerator == "mps" or (hw.accelerator == "cuda" and hw.device_memory_bytes >= MIN_GPU_BYTES)
    cpu_models = [e for e in catalog if e.backend == "pocket"]
    if not gpu_ok and cpu_models:
        entry = cpu_models[0]
        why = f"{entry.name} runs in real time on a CPU, so it suits this machine."
    else:
        entry = next((e for e in catalog if e.backend == "csm"), catalog[0])
        if gpu_ok:
            why = f"{entry.name} clones a voice from a short reference; your GPU runs it in bf16."
        else:
            why = (f"{entry.name} clones a voice from a short reference. Without a usable GPU it runs "
                   "on the CPU in fp32: expect a take to take several times its length to generate.")
    steps = []
    if entry.gated:
        steps += [f"Sign in at huggingface.co and accept the model's licence ({entry.licence}) on "
                  f"{entry.homepage or 'its page'}.",
                  "Create a read token at https://huggingface.co/settings/tokens.",
                  "In the Models workspace, paste the token, select the model and press Download."]
    else:
        steps.append("In the Models workspace, select the model and press Download.")
    steps.append("No internet on this machine? Copy the model's folder from another one and use "
                 "Import local folder in the Models workspace.")
    warnings = []
    if hw.free_disk_bytes and hw.free_disk_bytes < entry.size_bytes * 1.1:
        warnings.append(f"The download needs {human_size(entry.size_bytes)}; only "
                        f"{human_size(hw.free_disk_bytes)} is free where Mynah keeps its data.")
    if hw.ram_bytes and hw.ram_bytes < 8 * 1024 ** 3 and not gpu_ok and entry.backend == "csm":
        warnings.append(f"{human_size(hw.ram_bytes)} of memory is tight for a 1B-parameter model on the CPU.")
    return Recommendation(entry, why, steps, warnings)
