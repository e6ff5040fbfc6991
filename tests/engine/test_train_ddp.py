"""Two processes (torchrun, gloo on CPU) with batch 1 each end at the same weights as one process
with batch 2."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.train import lora
from engine.train.config import TrainConfig
from tests.engine.tiny_csm import cached_tiny_csm, single_thread
from tests.engine.tiny_mimi import cached_tiny_mimi
from tests.engine.train_helpers import open_tiny_run, speaker_clips

pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)
REPO = Path(__file__).resolve().parents[2]


def ddp_config(batch_size: int) -> TrainConfig:
    # lr 1e-3: Adam divides each gradient by its own magnitude, so an element whose gradient is
    # ~1e-8 (A's first gradients, while B is still near zero) moves by a large fraction of lr on
    # last-bit differences (padding changes the summation order). At 1e-2 the runs agree to 3e-5.
    return TrainConfig(lora=lora.LoraSettings(rank=4, alpha=8, targets=lora.ALL_TARGETS), lr=1e-3,
                       batch_size=batch_size, max_steps=3, depth_fraction=0.5, checkpoint_every=3,
                       eval_every=0, heldout_fraction=0.0)


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_with_the_doubled_batch(tmp_path, speech_dir):
    cache = tmp_path / "codes"
    one = open_tiny_run(tmp_path / "one", speaker_clips(speech_dir), ddp_config(batch_size=2), cache)
    one.run()  # also fills the codes cache the two processes read
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "two"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--standalone", str(REPO / "tests/engine/ddp_train_worker.py"),
                           str(speech_dir), str(out), str(cache), str(cached_tiny_csm("hf")),
                           str(cached_tiny_mimi()[0])],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, _ranks_failure(proc.stderr)
    two = torch.load(out / "weights.pt", weights_only=True)
    ones = {k: v.detach() for k, v in one.adapter.named_tensors().items()}
    assert ones.keys() == two.keys()
    worst = max((ones[k] - two[k]).abs().max().item() for k in ones)
    assert worst <= 1e-5
    moved = max(v.abs().max().item() for k, v in ones.items() if ".lora_B." in k)
    assert moved > 1e-4  # the runs trained (B starts at zero)


def _ranks_failure(stderr: str) -> str:
    """Each rank's own traceback lines (torchrun prefixes them "[rankN]:"), then the launcher's tail:
    the rank that died first is the one worth reading, and its lines come before the others'."""
    ranks = [line for line in stderr.splitlines() if line.startswith("[rank")]
    return "\n".join(ranks)[:5000] + "\n---\n" + stderr[-1500:]

