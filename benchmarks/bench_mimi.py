"""Mimi codec speed at the REAL kyutai/mimi dimensions (random weights): ours vs transformers.

    python benchmarks/bench_mimi.py                 # 10 s of audio / 125 frames, 1 repeat
    python benchmarks/bench_mimi.py --seconds 30 --reps 5 --stream-frames 100 --threads 4

Prints, side by side: whole decode of the codes (32 codebooks) and its real-time factor (time /
audio duration; below 1 is faster than real time), streaming decode latency of one frame (80 ms
of audio; median and p95, after a warm-up of history), and encode. transformers is only a
reference here (the app never imports it); its decoder has no streaming state, so that row is ours only.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.codecs.mimi import load_mimi  # noqa: E402

# kyutai/mimi's config.json (the checkpoint CSM-1B ships under codec_model.), for the check below
KYUTAI_MIMI = dict(
    sampling_rate=24000, hidden_size=512, num_filters=64, upsampling_ratios=[8, 6, 5, 4], kernel_size=7,
    last_kernel_size=3, residual_kernel_size=3, num_residual_layers=1, dilation_growth_rate=2, compress=2,
    codebook_size=2048, codebook_dim=256, num_quantizers=32, num_semantic_quantizers=1,
    vector_quantization_hidden_dimension=256, upsample_groups=512, num_hidden_layers=8, intermediate_size=2048,
    num_attention_heads=8, num_key_value_heads=8, head_dim=64, sliding_window=250, use_causal_conv=True,
    pad_mode="constant", trim_right_ratio=1.0, norm_eps=1e-5,
)


def timed_pair(fa, fb, reps: int) -> tuple[float, float]:
    """Median seconds of fa and fb, alternated so both see the same (shared, varying) CPU load."""
    ta, tb = [], []
    for _ in range(reps):
        for fn, out in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def real_size_models():
    from transformers import MimiConfig, MimiModel

    cfg = MimiConfig()
    diffs = {k: (getattr(cfg, k), v) for k, v in KYUTAI_MIMI.items() if getattr(cfg, k) != v}
    print(f"transformers MimiConfig() defaults == kyutai/mimi config: {not diffs} {diffs or ''}")
    print(f"frame rate {cfg.frame_rate} Hz, {cfg.num_quantizers} codebooks of {cfg.codebook_size}")
    torch.manual_seed(0)
    hf = MimiModel(cfg).eval()
    with torch.no_grad():  # random centroids (the default init makes them all zero)
        for m in hf.modules():
            if hasattr(m, "embed_sum") and hasattr(m, "cluster_usage"):
                m.embed_sum.normal_()
                m._embed = None
    ours = load_mimi(hf.state_dict(), cfg.to_dict())  # shares the tensors: no extra memory
    n_params = sum(p.numel() for p in ours.parameters())
    print(f"parameters: {n_params / 1e6:.1f} M")
    return hf, ours


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="audio length (default 10 s = 125 frames)")
    ap.add_argument("--reps", type=int, default=1, help="repeats of whole decode/encode (median shown)")
    ap.add_argument("--stream-frames", type=int, default=20, help="single-frame streaming steps timed")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, CPU")

    hf, ours = real_size_models()
    n_frames = round(args.seconds * ours.frame_rate)
    seconds = n_frames / ours.frame_rate
    codes = torch.randint(0, ours.codebook_size, (1, 32, n_frames))  # [1, 32, F]
    wav = torch.randn(1, 1, int(seconds * ours.sample_rate)) * 0.1  # [1, 1, T]

    with torch.inference_mode():
        ref = hf.decode(codes).audio_values
        mine = ours.decode(codes)
        print(f"parity at real size: decode max |diff| {float((ref - mine).abs().max()):.2e}, "
              f"encode codes equal: {torch.equal(hf.encode(wav).audio_codes, ours.encode(wav))}")
        t_ours, t_hf = timed_pair(lambda: ours.decode(codes), lambda: hf.decode(codes), args.reps)
        e_ours, e_hf = timed_pair(lambda: ours.encode(wav), lambda: hf.encode(wav), args.reps)

        lat = stream_latencies(ours, codes, args.stream_frames)
        # tiny per-frame ops: on a busy CPU, intra-op threads can cost more than they give
        torch.set_num_threads(1)
        lat_1 = stream_latencies(ours, codes, args.stream_frames)
        torch.set_num_threads(args.threads)

    print()
    print(f"{'':40s}{'ours':>12s}{'transformers':>14s}")
    print(f"{f'decode {seconds:.0f} s ({n_frames} frames, 32 cb)':40s}{t_ours:11.2f}s{t_hf:13.2f}s")
    print(f"{'  real-time factor':40s}{t_ours / seconds:12.3f}{t_hf / seconds:14.3f}")
    print(f"{f'encode {seconds:.0f} s':40s}{e_ours:11.2f}s{e_hf:13.2f}s")
    print(f"{'  real-time factor':40s}{e_ours / seconds:12.3f}{e_hf / seconds:14.3f}")
    for label, lats in ((f"{args.threads} threads", lat), ("1 thread", lat_1)):
        med, p95 = statistics.median(lats), lats[min(len(lats) - 1, round(0.95 * (len(lats) - 1)))]
        print(f"{f'stream 1 frame (80 ms), {label}, median':40s}{med * 1e3:10.1f}ms{'n/a':>14s}")
        print(f"{f'stream 1 frame, {label}, p95':40s}{p95 * 1e3:10.1f}ms{'n/a':>14s}")
        print(f"{'  streaming real-time factor (median)':40s}{med / 0.08:12.3f}")


def stream_latencies(ours, codes: torch.Tensor, n: int) -> list[float]:
    """Sorted seconds per single-frame decode_frames call, after 10 frames of history."""
    state = ours.streaming_decoder()
    state.decode_frames(codes[..., :10])  # some history, as mid-take
    lat = []
    for i in range(n):
        frame = codes[..., (10 + i) % codes.shape[-1]:][..., :1]  # [1, 32, 1]
        t0 = time.perf_counter()
        state.decode_frames(frame)
        lat.append(time.perf_counter() - t0)
    return sorted(lat)


if __name__ == "__main__":
    main()
