"""Fine-tuning speed and memory (fp32, CPU, random weights).

    python benchmarks/bench_finetune.py --tiny [--steps 30]      # ours vs transformers + peft, same batch
    python benchmarks/bench_finetune.py --real [--steps 3]       # CSM-1B dims, CPU preset, a 10 s clip

--real: seconds per training step for one 10 s clip under the CPU preset (LoRA r=8 on attention,
depth loss on 1/16 of the frames), the process's peak RSS, and the ETA the app would show for 30
minutes of such clips and 2 epochs (the trainer's own formula: remaining steps / measured steps/s,
steps after the first). The model is built in memory (no 6 GB folder); the first step is set-up.
--tiny: steps/s of one training step (forward, backward, AdamW) on the same 2-take batch, ours vs
transformers' CsmForConditionalGeneration with peft's LoRA (same rank, targets, lr), alternating.
The load average is printed: this machine is shared, so figures are pessimistic and noisy.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
K = 32


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (cores: {os.cpu_count()})"


def _batch(n_frames: int, n_text: int, n: int, seed: int = 0):
    import numpy as np

    from engine.train.objective import build_example

    g = np.random.default_rng(seed)
    return [build_example(g.integers(4, 300, n_text).tolist(), g.integers(0, 2048 if n_frames > 100 else 64,
                                                                            (K, n_frames - i * 3)))
            for i in range(n)]


def real(steps: int) -> None:
    import numpy as np
    import torch

    from benchmarks.bench_csm import _real_config
    from engine.backends.csm_config import CsmSpec
    from engine.backends.csm_model import CsmModel
    from engine.train import lora
    from engine.train.config import PRESETS
    from engine.train.objective import collate, csm_loss, depth_subset

    torch.set_num_threads(os.cpu_count() or 2)
    cfg = PRESETS["cpu-quick"]
    t0 = time.perf_counter()
    torch.manual_seed(0)
    spec = CsmSpec.from_hf(_real_config().to_dict())
    with torch.no_grad():
        model = CsmModel(spec)
        for p in model.parameters():
            p.normal_(0, 0.02)
    print(f"  built CSM-1B dims in memory in {time.perf_counter() - t0:.0f} s "
          f"({sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters)")
    adapter = lora.attach(model, cfg.lora, seed=0)
    opt = torch.optim.AdamW(adapter.parameters(), lr=cfg.lr)
    example = _batch(125, 24, 1)[0]  # 10 s = 125 Mimi frames, ~24 text tokens
    times = []
    for i in range(steps):
        keep = [depth_subset(example, cfg.depth_fraction, np.random.default_rng(i))]
        t = time.perf_counter()
        s = csm_loss(model, collate([example], keep))
        s.mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
        print(f"  step {i + 1}: {times[-1]:.1f} s (loss {s.mean().item():.2f})", flush=True)
    per_step = statistics.median(times[1:]) if len(times) > 1 else times[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    clips = int(30 * 60 / 10)  # 30 min of 10 s clips
    total = 2 * clips // cfg.batch_size
    print(f"real dims, CPU preset (r={cfg.lora.rank}, {'/'.join(cfg.lora.targets)}, depth on "
          f"1/{round(1 / cfg.depth_fraction)} of frames), {len(example)} positions, "
          f"{torch.get_num_threads()} threads:")
    print(f"  seconds per step (10 s clip): {per_step:.1f} (median of steps 2..{steps})")
    print(f"  peak RSS: {peak:.2f} GiB")
    print(f"  ETA shown for 30 min of audio x 2 epochs ({total} steps): {total * per_step / 3600:.1f} h")


def tiny(steps: int) -> None:
    import torch

    from engine.backends.csm_loader import load_csm
    from engine.train import lora
    from engine.train.objective import collate, csm_loss
    from tests.engine.tiny_csm import cached_tiny_csm, load_reference

    torch.set_num_threads(1)
    import peft

    folder = cached_tiny_csm("hf")
    settings = lora.LoraSettings(rank=8, alpha=16, targets=lora.ATTENTION)
    ours_model = load_csm(folder, device="cpu").model
    adapter = lora.attach(ours_model, settings, seed=0)
    ours_opt = torch.optim.AdamW(adapter.parameters(), lr=1e-3)
    ref = peft.get_peft_model(load_reference(folder),
                              peft.LoraConfig(r=8, lora_alpha=16, target_modules=settings.target_regex()))
    ref_opt = torch.optim.AdamW([p for p in ref.parameters() if p.requires_grad], lr=1e-3)
    batch = collate(_batch(60, 12, 2))  # two takes of ~5 s, padded
    inner = ref.base_model.model
    mask = batch.mask

    def ours_step():
        csm_loss(ours_model, batch).mean().backward()
        ours_opt.step()
        ours_opt.zero_grad(set_to_none=True)

    def ref_step():
        embeds = (inner.embed_text_tokens(batch.tokens[..., -1]) * mask[..., -1:].float()
                  + inner.backbone_model.embed_tokens(batch.tokens[..., :K]) * mask[..., :1].float())
        ref(inputs_embeds=embeds, labels=batch.labels).loss.backward()
        ref_opt.step()
        ref_opt.zero_grad(set_to_none=True)

    for f in (ours_step, ref_step):  # warm-up
        f()
    t_ours, t_ref = [], []
    for i in range(steps):
        for f, acc in ((ours_step, t_ours), (ref_step, t_ref)) if i % 2 == 0 else ((ref_step, t_ref), (ours_step, t_ours)):
            t = time.perf_counter()
            f()
            acc.append(time.perf_counter() - t)
    a, b = 1 / statistics.median(t_ours), 1 / statistics.median(t_ref)
    print(f"tiny dims, batch of 2 takes ({batch.tokens.shape[1]} positions), 1 thread, {steps} steps each:")
    print(f"  ours {a:.1f} steps/s vs transformers+peft {b:.1f} steps/s: {a / b:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--inner", choices=["tiny", "real"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        (tiny if a.inner == "tiny" else real)(a.steps)
        return
    kinds = [k for k in ("tiny", "real") if getattr(a, k)] or ["tiny"]
    print(f"load average before: {_load()}")
    for kind in kinds:  # each in its own process: a clean peak RSS
        n = a.steps or (30 if kind == "tiny" else 3)
        subprocess.run([sys.executable, __file__, "--inner", kind, "--steps", str(n)], check=True)
        print(f"load average after {kind}: {_load()}")


if __name__ == "__main__":
    main()
