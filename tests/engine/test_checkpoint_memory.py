"""A loader that copies a memory-mapped weight elsewhere (fp32 CPU weights moved to huge pages) drops
the checkpoint's pages under it at once, so loading never holds the model twice."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.hub.checkpoint import open_checkpoint


def _resident_kb(path: str) -> int:
    """Rss of this process's mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps").read().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            inside = line.rstrip().endswith(path)
        elif inside and head == "Rss:":
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").is_file(), reason="resident pages are read from /proc (Linux)")
def test_release_memory_drops_the_pages_under_a_copied_weight(tmp_path):
    path = tmp_path / "model.safetensors"
    weights = {"big": torch.randn(2048, 2048), "small": torch.randn(8, 8)}
    save_file(weights, str(path))
    ckpt = open_checkpoint(tmp_path)
    big, small = ckpt.tensor("big"), ckpt.tensor("small")
    assert float(big.sum()) == float(weights["big"].sum())  # every page read
    before = _resident_kb(str(path))
    assert before >= 16 * 1024 - 8
    ckpt.release_memory(weights["small"])  # not a view of the file: nothing happens
    assert _resident_kb(str(path)) == before
    ckpt.release_memory(big.t())  # any view of the weight
    assert _resident_kb(str(path)) <= before - 16 * 1024 + 8
    assert torch.equal(big, weights["big"]) and torch.equal(small, weights["small"])  # re-read from the file
