"""Reading model checkpoints safely: safetensors (memory-mapped, zero-copy) and JSON configs.

Nothing here unpickles: safetensors is parsed by hand (8-byte header length, JSON header, raw
data) and tensors are `torch.frombuffer` views of a private (copy-on-write) mmap, so a 6 GB
checkpoint costs no copy and no RAM until pages are touched. `.pt` files are only ever read with
`torch.load(weights_only=True)`.

Every error names the file and, where there is one, the key.
"""
from __future__ import annotations

import json
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch

from engine.hub.errors import CheckpointError  # noqa: F401  (defined without torch; imported from here too)

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
# Where Hugging Face and the sesame/csm-1b repository put their shard indexes, in preference order.
INDEX_NAMES = ("model.safetensors.index.json", "transformers.safetensors.index.json")
SINGLE_NAMES = ("model.safetensors",)


def read_json(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing from {path.parent}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} does not hold a JSON object")
    return data


@dataclass(frozen=True)
class TensorEntry:
    file: Path
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    end: int


class SafetensorsFile:
    """One .safetensors file, header parsed, data memory-mapped on first tensor access."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._mmap: mmap.mmap | None = None
        try:
            with open(self.path, "rb") as f:
                raw = f.read(8)
                if len(raw) < 8:
                    raise CheckpointError(f"{self.path.name} is truncated (no safetensors header)")
                (n,) = struct.unpack("<Q", raw)
                size = self.path.stat().st_size
                if n > min(size - 8, 100_000_000):
                    raise CheckpointError(f"{self.path.name} is not a safetensors file (bad header length)")
                header = json.loads(f.read(n))
        except OSError as e:
            raise CheckpointError(f"cannot read {self.path}: {e}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CheckpointError(f"{self.path.name} is not a safetensors file (bad header)") from None
        self.metadata = header.pop("__metadata__", {}) or {}
        self.entries: dict[str, TensorEntry] = {}
        base = 8 + n
        for key, info in header.items():
            dtype = _DTYPES.get(info.get("dtype"))
            if dtype is None:
                raise CheckpointError(f"{self.path.name}: tensor {key!r} has unsupported dtype {info.get('dtype')!r}")
            b, e = info["data_offsets"]
            if base + e > size:
                raise CheckpointError(f"{self.path.name} is truncated: tensor {key!r} runs past the end of the file")
            self.entries[key] = TensorEntry(self.path, dtype, tuple(info["shape"]), base + b, base + e)

    def tensor(self, key: str) -> torch.Tensor:
        entry = self.entries[key]
        numel = 1
        for d in entry.shape:
            numel *= d
        if numel == 0:
            return torch.empty(entry.shape, dtype=entry.dtype)
        if self._mmap is None:
            with open(self.path, "rb") as f:
                # ACCESS_COPY: writable private pages, so torch gets a writable buffer and the file
                # on disk can never be modified through a tensor.
                self._mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        t = torch.frombuffer(self._mmap, dtype=entry.dtype, count=numel, offset=entry.start)
        return t.view(entry.shape)

    def release_memory(self, t: torch.Tensor) -> bool:
        """`release` by address: drop the resident pages under tensor `t` if it is a view of this
        file's mapping (a weight the model has just copied elsewhere). Returns whether it was."""
        if self._mmap is None or not hasattr(mmap, "MADV_DONTNEED"):
            return False
        base = torch.frombuffer(self._mmap, dtype=torch.uint8, count=1).data_ptr()
        offset = t.data_ptr() - base
        if not 0 <= offset < len(self._mmap):
            return False
        page = mmap.PAGESIZE
        start = -(-offset // page) * page
        span = 1 + sum((n - 1) * st for n, st in zip(t.shape, t.stride()))  # elements the view covers
        end = (offset + span * t.element_size()) // page * page
        if end > start:
            self._mmap.madvise(mmap.MADV_DONTNEED, start, end - start)
        return True

    def release(self, key: str) -> None:
        """Drop the resident pages of a tensor that was copied elsewhere (e.g. fused into a bigger
        one), so they stop counting against memory. Reading it again re-reads the file."""
        entry = self.entries[key]
        if self._mmap is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        page = mmap.PAGESIZE
        start = -(-entry.start // page) * page  # whole pages only: neighbours may share the edges
        end = entry.end // page * page
        if end > start:
            self._mmap.madvise(mmap.MADV_DONTNEED, start, end - start)


class Checkpoint:
    """A set of safetensors files seen as one key -> tensor mapping."""

    def __init__(self, files: Iterable[Path], described_by: Path | None = None) -> None:
        self.files = [SafetensorsFile(p) for p in files]
        self.described_by = described_by  # the index file, when there is one
        self._where: dict[str, SafetensorsFile] = {}
        for f in self.files:
            for key in f.entries:
                self._where[key] = f

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def keys(self) -> list[str]:
        return list(self._where)

    def file_of(self, key: str) -> Path:
        return self._where[key].path

    def shape(self, key: str) -> tuple[int, ...]:
        return self._where[key].entries[key].shape

    def tensor(self, key: str) -> torch.Tensor:
        if key not in self._where:
            raise CheckpointError(f"{self.name}: tensor {key!r} is missing")
        return self._where[key].tensor(key)

    def release(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key in self._where:
                self._where[key].release(key)

    def release_memory(self, t: torch.Tensor) -> None:
        """Drop the resident pages under `t` if it is a view of one of these files (see
        SafetensorsFile.release_memory); anything else is left alone."""
        for f in self.files:
            if f.release_memory(t):
                return

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        return {k: self.tensor(k) for k in self._where if k.startswith(prefix)}

    @property
    def name(self) -> str:
        if self.described_by is not None:
            return self.described_by.name
        return ", ".join(f.path.name for f in self.files)

    def check(self, expected: dict[str, tuple[int, ...]]) -> None:
        """Raise CheckpointError naming the file and key of the first missing or misshapen tensor."""
        for key, shape in expected.items():
            if key not in self._where:
                raise CheckpointError(f"{self.name}: tensor {key!r} is missing")
            got = self.shape(key)
            if tuple(got) != tuple(shape):
                raise CheckpointError(
                    f"{self.file_of(key).name}: tensor {key!r} has shape {list(got)}, the config expects "
                    f"{list(shape)} (config.json and weights do not match)")


def open_checkpoint(folder: Path, index_names: tuple[str, ...] = INDEX_NAMES) -> Checkpoint:
    """Open the weights of a model folder: a shard index if there is one, else a single file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"model folder {folder} does not exist")
    for name in index_names:
        index_path = folder / name
        if index_path.is_file():
            index = read_json(index_path)
            weight_map = index.get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise CheckpointError(f"{name} has no weight_map")
            shards = sorted(set(weight_map.values()))
            for shard in shards:
                if not (folder / shard).is_file():
                    raise CheckpointError(f"{shard} (listed in {name}) is missing from {folder}")
            ckpt = Checkpoint([folder / s for s in shards], described_by=index_path)
            for key, shard in weight_map.items():
                if key not in ckpt:
                    raise CheckpointError(f"{shard}: tensor {key!r} (listed in {name}) is missing")
            return ckpt
    for name in SINGLE_NAMES:
        if (folder / name).is_file():
            return Checkpoint([folder / name])
    singles = sorted(folder.glob("*.safetensors"))
    if len(singles) == 1:
        return Checkpoint(singles)
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")) or any(folder.glob("*.pth")):
        raise CheckpointError(
            f"{folder} holds only pickle weights (.bin/.pt); Mynah reads safetensors "
            "(convert with `load_pt_weights` + safetensors.torch.save_file)")
    raise CheckpointError(f"no model.safetensors or shard index ({', '.join(index_names)}) in {folder}")


def load_pt_weights(path: Path) -> dict[str, torch.Tensor]:
    """A .pt state dict, never unpickling arbitrary objects."""
    try:
        obj = torch.load(Path(path), map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # torch raises several types for bad/unsafe pickles
        raise CheckpointError(f"{Path(path).name} could not be read as plain weights: {e}") from None
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{Path(path).name} does not hold a state dict")
    return obj
