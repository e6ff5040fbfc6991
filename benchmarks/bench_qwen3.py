"""Qwen3-TTS frame rate: ours vs the reference qwen-tts package on the same random weights and
prompt, plus the memory-bandwidth bound, at tiny and at real 0.6B dimensions (fp32, CPU).
The bound is the weight bytes one frame reads over the median plain read of memory in the run
(benchmarks/memory_bandwidth.py: a sum over 1 GiB of random floats, 4 KB and huge pages; read after
each side's frames in its own process, and between rounds); each of our runs is also set against
its own process's read, which follows the host's bandwidth drift best.

    python benchmarks/bench_qwen3.py --tiny            # tiny dims (overhead-bound, as a GPU is)
    python benchmarks/bench_qwen3.py --real            # real 0.6B dims (writes ~3.7 GB of weights)
    python benchmarks/bench_qwen3.py --real --frames 8 --threads 2 --rounds 1

The reference runs in its own environment (tests/engine/qwen3_ref/env.py: created once, cached).
Each side runs in its own subprocess (one model in memory at a time; peak RSS per side). The prompt
is in-context voice cloning (a 3 s reference: 38 frames of codes and its transcript, then the
target text). Per-frame time is the median interval between frames 1..N as they come out (our
generator; the reference's talker forward calls, each of which completes one frame); the prefill
is reported as "1st frame s" (time from the call to the first whole frame of codes). "1st audio s"
is when the first audio exists: ours streams (the first 5 frames through the streaming decoder);
the reference package returns audio only after the whole take (N frames, then its tokenizer's
decode), so that is its figure. The speech tokenizer has the real decoder's size (its encoder,
unused here, is kept tiny). Both sample
with the reference's defaults (T=0.9, top-k 50, repetition penalty 1.05). The random weights give
end-of-speech a zero logit row so no run stops early.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from memory_bandwidth import read_bandwidth  # noqa: E402
ROLE, TAIL, REF_TAIL = [151644, 77091, 198], [151645, 198, 151644, 77091, 198], [151645, 198]


def real_config() -> dict:
    """Qwen/Qwen3-TTS-12Hz-0.6B-Base's config.json (the fields the models read)."""
    from tests.engine.qwen3_ref import tiny

    cfg = tiny.config("0.6b")
    t, p = cfg["talker_config"], cfg["talker_config"]["code_predictor_config"]
    t.update(hidden_size=1024, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
             intermediate_size=3072, text_hidden_size=2048,
             rope_scaling={"interleaved": True, "mrope_section": [24, 20, 20], "rope_type": "default"})
    p.update(hidden_size=1024, num_hidden_layers=5, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
             intermediate_size=3072, layer_types=["full_attention"] * 5)
    cfg["speaker_encoder_config"].update(enc_dim=1024, enc_channels=[512, 512, 512, 512, 1536],
                                         enc_attention_channels=128, enc_res2net_scale=8, enc_se_channels=128)
    return cfg


def make_model(kind: str, folder: Path) -> None:
    """Runs in the reference environment: its model class, randomised, saved in the Hub layout."""
    from tests.engine.qwen3_ref import runner, tiny

    folder.mkdir(parents=True, exist_ok=True)
    cfg = real_config() if kind == "real" else tiny.config("0.6b")
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "generation_config.json").write_text(json.dumps(tiny.GENERATION))
    codec_cfg = tiny.codec_config()
    if kind == "real":  # Qwen3-TTS-Tokenizer-12Hz's decoder (its config defaults + codebook_dim 512)
        codec_cfg["decoder_config"] = {"codebook_dim": 512, "num_quantizers": 16, "codebook_size": 2048,
                                       "sliding_window": 72, "upsample_rates": [8, 5, 4, 3],
                                       "upsampling_ratios": [2, 2]}
    (folder / "speech_tokenizer").mkdir()
    (folder / "speech_tokenizer" / "config.json").write_text(json.dumps(codec_cfg))
    runner.build_codec(folder / "speech_tokenizer")
    import torch
    from safetensors.torch import save_file

    model = runner.Qwen3TTSForConditionalGeneration(runner.Qwen3TTSConfig(**cfg)).eval()
    runner.randomize(model, 1234)
    with torch.no_grad():
        model.talker.codec_head.weight[cfg["talker_config"]["codec_eos_token_id"]] = 0.0
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})


def prompt_case() -> dict:
    import random

    r = random.Random(3)
    text = [r.randrange(0, 150000) for _ in range(30)]
    ref_text = [r.randrange(0, 150000) for _ in range(20)]
    codes = [[r.randrange(0, 2048) for _ in range(16)] for _ in range(38)]
    return {"text_ids": ROLE + text + TAIL, "ref_ids": ROLE + ref_text + REF_TAIL, "ref_codes": codes}


def run_worker(side: str, folder: Path, frames: int, threads: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    case = prompt_case()
    ids, ref_ids, ref_codes = (torch.tensor([case["text_ids"]]), torch.tensor([case["ref_ids"]]),
                               torch.tensor(case["ref_codes"]))
    dim = json.loads((folder / "config.json").read_text())["talker_config"]["hidden_size"]
    spk = torch.randn(dim, generator=torch.Generator().manual_seed(0)) * 0.5
    t0 = time.perf_counter()
    if side == "ours":
        from engine.backends.csm_guards import GuardSettings
        from engine.backends.qwen3_generate import generate_frames, make_generator
        from engine.backends.qwen3_loader import load_qwen3
        from engine.backends.qwen3_prompt import build_prompt

        from engine.codecs.qwen3_codec import load_qwen3_codec

        loaded = load_qwen3(folder, device="cpu", dtype="fp32", max_positions=512)
        codec = load_qwen3_codec(folder / "speech_tokenizer")

        def gen(n: int) -> list[float]:
            stamps = [time.perf_counter()]
            with torch.inference_mode():
                prompt = build_prompt(loaded.model, ids, language="english", speaker_embedding=spk,
                                      ref_ids=ref_ids, ref_codes=ref_codes)
            for f in generate_frames(loaded.model, prompt, loaded.sampling, n, make_generator(torch.device("cpu"), 0),
                                     GuardSettings(repeat_frames=10**9)):
                stamps.append(time.perf_counter())
            assert len(stamps) == n + 1, f"stopped after {len(stamps) - 1} frames"
            return stamps

        def first_audio(n: int) -> float:
            start = time.perf_counter()
            with torch.inference_mode():
                prompt = build_prompt(loaded.model, ids, language="english", speaker_embedding=spk,
                                      ref_ids=ref_ids, ref_codes=ref_codes)
            stream, pending = codec.streaming_decoder(64), []
            for f in generate_frames(loaded.model, prompt, loaded.sampling, 5, make_generator(torch.device("cpu"), 0),
                                     GuardSettings(repeat_frames=10**9)):
                pending.append(f.codes)
            audio = stream.decode_frames(torch.from_numpy(np.stack(pending, axis=1)).unsqueeze(0))
            assert audio.shape[-1] == 5 * 1920
            return time.perf_counter() - start
    else:
        from tests.engine.qwen3_ref import runner

        model = runner.build(folder)
        clock: list[float] = []
        model.talker.register_forward_hook(lambda *_: clock.append(time.perf_counter()))
        prompt = {"ref_code": [ref_codes], "ref_spk_embedding": [spk], "x_vector_only_mode": [False],
                  "icl_mode": [True]}

        def gen(n: int) -> list[float]:
            clock.clear()
            start = time.perf_counter()
            with torch.inference_mode():
                codes, _ = model.generate(input_ids=[ids], ref_ids=[ref_ids], voice_clone_prompt=prompt,
                                          languages=["english"], max_new_tokens=n + 1)
            assert len(codes[0]) == n, f"{len(codes[0])} frames"
            return [start] + clock[1:]  # call 0 is the prefill; call i completes frame i-1

        tokenizer = runner.build_codec(folder / "speech_tokenizer")

        def first_audio(n: int) -> float:  # the package's audio comes after the whole take
            start = time.perf_counter()
            with torch.inference_mode():
                codes, _ = model.generate(input_ids=[ids], ref_ids=[ref_ids], voice_clone_prompt=prompt,
                                          languages=["english"], max_new_tokens=n + 1)
                wav = tokenizer.decode(codes[0].unsqueeze(0), return_dict=True).audio_values[0]
            assert wav.shape[-1] == n * 1920
            return time.perf_counter() - start
    load_s = time.perf_counter() - t0
    gen(2)  # warm-up
    stamps = gen(frames)
    s_per_frame = statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))
    run = {"side": side, "load_s": load_s, "s_per_frame": s_per_frame, "frames_per_s": 1 / s_per_frame,
           "first_frame_s": stamps[1] - stamps[0], "first_audio_s": first_audio(frames),
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
    # The shared machine's memory bandwidth drifts by tens of percent within seconds: read it right
    # after the frames, in the same process (its buffers come after the peak RSS was taken).
    run["read_bw"] = read_bandwidth(threads)
    return run


def bytes_per_frame(folder: Path) -> int:
    """fp32 weight bytes one frame must read: the talker and codec head once; for each of the 15
    predictor steps (positions 0+1 as one pass) the predictor, one head (and the projection, if any)."""
    from engine.backends.qwen3_config import Qwen3Spec

    spec = Qwen3Spec.from_hf(json.loads((folder / "config.json").read_text()))

    def decoder_params(c) -> int:
        q, kv = c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
        per_layer = c.dim * (q + 2 * kv) + q * c.dim + 3 * c.dim * c.ffn_dim + 2 * c.dim + 2 * c.head_dim
        return c.n_layers * per_layer + c.dim

    d, dd, v = spec.talker.dim, spec.predictor.dim, spec.code_vocab
    proj = d * dd if d != dd else 0
    once = decoder_params(spec.talker) + d * spec.codec_vocab
    return 4 * (once + (spec.n_codebooks - 1) * (decoder_params(spec.predictor) + proj + dd * v))


def _subprocess(python: str, args: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([python, __file__, *args], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    run = dict(sorted(runs, key=lambda r: r["s_per_frame"])[(len(runs) - 1) // 2])
    run["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    return run


def bench(kind: str, frames: int, threads: int, rounds: int) -> None:
    from tests.engine.qwen3_ref import env

    t = time.perf_counter()
    ref_python = str(env.ensure())
    created = env.creation_seconds()
    print(f"\n== {kind} dimensions, fp32, CPU, {threads} threads, {frames} frames, {rounds} round(s), "
          f"load average {os.getloadavg()[0]:.2f} ==", flush=True)
    print(f"  reference environment ready in {time.perf_counter() - t:.1f} s "
          f"(creating it took {created} s, once per machine)", flush=True)
    root = Path(tempfile.mkdtemp(prefix=f"mynah-bench-qwen3-{kind}-"))
    try:
        folder = root / "model"
        t = time.perf_counter()
        subprocess.run([ref_python, __file__, "--make", kind, "--dir", str(folder)], check=True, cwd=REPO)
        print(f"  random {kind} model written in {time.perf_counter() - t:.0f} s", flush=True)
        os.sync()
        # "ours, torch matmul": our engine with MYNAH_CPU_MATMUL=torch (torch's MKL for the one-row
        # products instead of numpy's BLAS, engine/lm/cpu_blas.py): what that choice is worth.
        sides = ("ours", "ours_torch", "ref")
        names = {"ours": "ours", "ours_torch": "ours, torch mm", "ref": "qwen-tts"}
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        bws = []
        for r in range(rounds):
            for side in (sides if r % 2 == 0 else sides[::-1]):  # neither always first
                py = ref_python if side == "ref" else sys.executable
                runs[side].append(_subprocess(py, ["--worker", "ref" if side == "ref" else "ours", "--dir", str(folder),
                                                   "--frames", str(frames), "--threads", str(threads)],
                                              {"MYNAH_CPU_MATMUL": "torch"} if side == "ours_torch" else None))
            bws.append(read_bandwidth(threads))
        ours, ours_torch, ref = (_median_run(runs[side]) for side in sides)
        bws += [r["read_bw"] for side in sides for r in runs[side]]
        # The bound: the median plain read of the run (the host's bandwidth drifts 35-75 GB/s here, so
        # each run is also set against the read its own process made right after its frames).
        bw = statistics.median(r["best"] for r in bws)
        if rounds > 1:
            for side in sides:
                print(f"  {names[side]} s/frame per round: " + ", ".join(f"{r['s_per_frame']:.4f}" for r in runs[side]))
        nbytes = bytes_per_frame(folder)
        bound = nbytes / bw
        print(f"  {'':16s}{'s/frame':>10s}{'frames/s':>10s}{'1st frame s':>12s}{'1st audio s':>12s}"
              f"{'load s':>8s}{'peak RSS GB':>12s}")
        for side, r in zip(sides, (ours, ours_torch, ref)):
            print(f"  {names[side]:16s}{r['s_per_frame']:10.4f}{r['frames_per_s']:10.2f}{r['first_frame_s']:12.3f}"
                  f"{r['first_audio_s']:12.3f}{r['load_s']:8.1f}{r['peak_rss_gb']:12.2f}")
        print(f"  bandwidth bound: {nbytes / 1e9:.2f} GB of weights per frame / {bw / 1e9:.1f} GB/s "
              f"(median plain read of memory, {threads} threads, of {len(bws)} reads: "
              f"{min(b['best'] for b in bws) / 1e9:.1f}-{max(b['best'] for b in bws) / 1e9:.1f} GB/s) "
              f"= {bound:.4f} s/frame")
        paired = sorted(r["s_per_frame"] * r["read_bw"]["best"] / nbytes for r in runs["ours"])
        print("  ours vs the read its own process made right after its frames (time / bound): "
              + ", ".join(f"{x:.2f}x" for x in paired) + f" (median {statistics.median(paired):.2f}x)")
        print(f"  ours streams {nbytes / ours['s_per_frame'] / 1e9:.1f} GB/s of weights, with torch's matmul "
              f"{nbytes / ours_torch['s_per_frame'] / 1e9:.1f}, qwen-tts {nbytes / ref['s_per_frame'] / 1e9:.1f}")
        print(f"  ratio ours vs qwen-tts (speed-up): {ref['s_per_frame'] / ours['s_per_frame']:.2f}x "
              f"(with torch's matmul: {ref['s_per_frame'] / ours_torch['s_per_frame']:.2f}x)")
        print(f"  ratio ours vs bound (time / bound): {ours['s_per_frame'] / bound:.2f}x")
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="only the tiny model")
    p.add_argument("--real", action="store_true", help="only the real 0.6B-size model")
    p.add_argument("--frames", type=int, default=None, help="frames per timed run (default 60 tiny, 6 real)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default 1 tiny, 2 real)")
    p.add_argument("--rounds", type=int, default=None, help="alternating rounds, medians (default 3 tiny, 1 real)")
    p.add_argument("--make", choices=["tiny", "real"], help=argparse.SUPPRESS)
    p.add_argument("--worker", choices=["ours", "ref"], help=argparse.SUPPRESS)
    p.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.make:
        make_model(a.make, a.dir)
        return
    if a.worker:
        print(json.dumps(run_worker(a.worker, a.dir, a.frames, a.threads)))
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    kinds = [k for k, on in (("tiny", a.tiny), ("real", a.real)) if on] or ["tiny", "real"]
    for kind in kinds:
        bench(kind, max(2, a.frames or (60 if kind == "tiny" else 6)), a.threads or (1 if kind == "tiny" else 2),
              max(1, a.rounds or (3 if kind == "tiny" else 1)))


if __name__ == "__main__":
    main()
