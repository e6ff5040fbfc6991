"""Run by `torchrun --nproc_per_node 2` in test_train_ddp.py: the tiny run, batch 1 per process."""
from __future__ import annotations

import sys
from pathlib import Path

import torch


def main() -> None:
    from engine.train.session import init_distributed
    from tests.engine.test_train_ddp import ddp_config
    from engine.train.session import open_run
    from tests.engine.train_helpers import speaker_clips

    speech, out, cache, model, mimi = (Path(a) for a in sys.argv[1:6])
    torch.set_num_threads(1)
    rank, world = init_distributed()
    assert world == 2
    trainer = open_run(model, speaker_clips(speech), out / "run", ddp_config(batch_size=1), device="cpu",
                       codes_cache=cache, codec_dir=mimi)
    trainer.run()
    if rank == 0:
        torch.save({k: v.detach() for k, v in trainer.adapter.named_tensors().items()}, out / "weights.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
