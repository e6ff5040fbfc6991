"""Pocket TTS speed: our backend vs the pocket-tts package's own `generate_audio_stream`, same random
weights, same text, same voice, at real dimensions (fp32, CPU).

    python benchmarks/bench_pocket.py                      # english (default) and english_2m_2026-10
    python benchmarks/bench_pocket.py --variants english --rounds 5 --threads 1

Per variant, one random-weight model is written in the Hub layout (languages/<variant>/model.safetensors
+ a tokenizer with the config's n_bins entries) to a temp folder; each side then runs in its own
subprocess (peak RSS per side): ours loads it through our loader (PocketBackend), the package through
`TTSModel.load_model(config=...)` with the weights path pointing at the same file. EOS is disabled
(threshold 1e9) so both generate the package's full frame budget for the text.
Figures: faster than real time (audio seconds / wall seconds), Generate-to-first-sound with a warm model
(the voice state already encoded; both sides' first audio chunk), s/frame, peak RSS; median of the rounds
after one warm-up. The load average is printed: the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TEXT = "Hello world, how are you today?"  # char-level test tokenizer: ~31 tokens -> 129 frames, 10.3 s
NO_EOS = 1e9


def _write_model(root: Path, variant: str) -> Path:
    from tests.engine.tiny_pocket import build_pocket

    return build_pocket(root / variant, variant, seed=0)


def _clip():
    from tests.engine.tiny_pocket import test_clip

    return test_clip(seconds=5.0)


def _child_ours(folder: Path, rounds: int, threads: int, dtype: str = "auto") -> dict:
    import torch

    from engine.backends.base import SamplingParams
    from engine.backends.pocket import PocketBackend

    torch.set_num_threads(threads)
    b = PocketBackend()
    info = b.load(folder, device="cpu", dtype=dtype)
    torch.set_num_threads(threads)
    t = time.perf_counter()
    voice = b.encode_reference(_clip(), 24000, "", "bench")
    encode_s = time.perf_counter() - t
    params = SamplingParams(temperature=0.3, seed=1, options={"eos_threshold": NO_EOS, "trim_silence": False})
    runs = []
    for r in range(rounds + 1):
        t0 = time.perf_counter()
        first = None
        n_samples = frames = 0
        for step in b.synthesize(TEXT, voice, params, stream_frames=5):
            if step.audio is not None:
                if first is None:
                    first = time.perf_counter() - t0
                n_samples += len(step.audio)
            frames += step.latent is not None
        total = time.perf_counter() - t0
        if r:  # round 0 warms up
            runs.append((total, first, n_samples / info.sample_rate, frames))
    return _summary(runs, encode_s, b._need().n_parameters)  # counted before int8 quantization


def _child_package(folder: Path, rounds: int, threads: int) -> dict:
    import torch
    import yaml

    from engine.backends.pocket_load import find_folder, import_pocket

    tts = import_pocket()
    torch.set_num_threads(threads)
    f = find_folder(folder)
    raw = yaml.safe_load(f.config.read_text())
    raw["weights_path"] = str(f.weights)
    raw.pop("weights_path_without_voice_cloning", None)
    raw["flow_lm"]["lookup_table"].update(tokenizer_path=str(f.tokenizer), tokenizer="tokenizers")
    cfg = Path(tempfile.mkdtemp()) / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    model = tts.TTSModel.load_model(config=cfg, temp=0.3, eos_threshold=NO_EOS)
    torch.set_num_threads(threads)
    t = time.perf_counter()
    state = model.get_state_for_audio_prompt(torch.from_numpy(_clip())[None])
    encode_s = time.perf_counter() - t
    runs = []
    for r in range(rounds + 1):
        torch.manual_seed(1)
        t0 = time.perf_counter()
        first = None
        n_samples = 0
        for chunk in model.generate_audio_stream(state, TEXT, copy_state=True):
            if first is None:
                first = time.perf_counter() - t0
            n_samples += chunk.shape[-1]
        total = time.perf_counter() - t0
        if r:
            runs.append((total, first, n_samples / model.sample_rate, round(n_samples / 1920)))
    return _summary(runs, encode_s, sum(p.numel() for p in model.parameters()))


def _summary(runs, encode_s, n_params) -> dict:
    total = statistics.median(r[0] for r in runs)
    audio_s = runs[0][2]
    return {"x_real_time": audio_s / total, "first_sound_ms": 1000 * statistics.median(r[1] for r in runs),
            "s_per_frame": total / runs[0][3], "audio_s": audio_s, "frames": runs[0][3], "encode_s": encode_s,
            "params_m": n_params / 1e6, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def _run_child(side: str, folder: Path, rounds: int, threads: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", side, str(folder), str(rounds), str(threads)],
                         capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"{side} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--variants", nargs="+", default=["english", "english_2m_2026-10"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads on both sides (the package sets 1)")
    p.add_argument("--int8", action="store_true", help="also ours with dtype int8 (the package's dynamic quantization)")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        side, folder, rounds, threads = a.child
        args = (Path(folder), int(rounds), int(threads))
        res = (_child_ours(*args) if side == "ours" else _child_ours(*args, dtype="int8") if side == "ours-int8"
               else _child_package(*args))
        print(json.dumps(res))
        return
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}; torch threads: {a.threads}; text: {TEXT!r}")
    header = (f"{'variant':<20} {'side':<9} {'params':>7} {'x real time':>11} {'first sound':>11} {'s/frame':>8} "
              f"{'frames':>6} {'encode 5 s':>10} {'peak RSS':>8}")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for i, variant in enumerate(a.variants):
            folder = _write_model(Path(tmp), variant)
            res = {}
            # Alternate which side runs first, so a burst of load from other jobs does not favour one side.
            for side in (("ours", "package") if i % 2 == 0 else ("package", "ours")):
                res[side] = _run_child(side, folder, a.rounds, a.threads)
            res = {k: res[k] for k in ("ours", "package")}
            if a.int8:
                res["ours-int8"] = _run_child("ours-int8", folder, a.rounds, a.threads)
            for side in res:
                r = res[side]
                print(f"{variant:<20} {side:<9} {r['params_m']:6.1f}M {r['x_real_time']:10.2f}x "
                      f"{r['first_sound_ms']:9.0f} ms {r['s_per_frame']:8.4f} {r['frames']:6d} "
                      f"{r['encode_s']:9.2f}s {r['peak_rss_gb']:6.2f} GB")
            print(f"{variant:<20} ours / package speed: {res['ours']['x_real_time'] / res['package']['x_real_time']:.2f}x")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
