"""The Synthesize editor's chunk preview for Qwen3-TTS (engine/backends/qwen3_split.py), measured: it
runs on the GUI thread after each pause in typing, so it must stay well under a frame budget of ~100 ms.
For English and Chinese scripts of growing length: milliseconds to normalize and cut a paragraph (and
to preview it again unchanged: each spoken part's chunks are remembered), the chunk count; plus the
one-time tokenizer load.

    python benchmarks/bench_chunk_preview.py                          # the tiny test model's tokenizer
    python benchmarks/bench_chunk_preview.py --model ~/.local/share/Mynah/models/Qwen--Qwen3-TTS-12Hz-0.6B-Base
    python benchmarks/bench_chunk_preview.py --tokenizer-json path/to/tokenizer.json   # any byte-level BPE

Prints figures; asserts nothing. The tiny model's 400-token vocabulary is not Qwen's 151,643: pass a
real model folder (or another large BPE's tokenizer.json) for representative times.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from engine.backends import qwen3_split
    from engine.backends.qwen3_split import split, splitter_for
    from engine.text.normalize import normalize_for_tts
    from tests.engine.qwen3_texts import CHINESE, ENGLISH

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="a Qwen3-TTS folder (default: the tiny test model)")
    ap.add_argument("--tokenizer-json", type=Path, default=None,
                    help="time the cut with this tokenizer.json instead (no Qwen chat tokens needed)")
    ap.add_argument("--reference-frames", type=int, default=125, help="an in-context reference (10 s)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.tokenizer_json is not None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(args.tokenizer_json))

        def rule_for(language: str):
            def ids(s: str) -> list[int]:  # the chat wrapping's 8 ids around the text
                return [0] * 3 + tok.encode(s, add_special_tokens=False).ids + [0] * 5
            return lambda text: split(normalize_for_tts(text, language=language), ids,
                                      reference_positions=args.reference_frames + 40)
        source = str(args.tokenizer_json)
    else:
        if args.model is None:
            from tests.engine.qwen3_ref.tiny import cached_full_model

            args.model = cached_full_model()

        def rule_for(language: str):
            return splitter_for(args.model, reference_text="These take the shape of a long round arch.",
                                reference_frames=args.reference_frames, language=language)
        source = str(args.model)
    rule_for("english")  # reads the tokenizer (cached per folder afterwards)
    print(f"tokenizer: {source} (loaded in {1000 * (time.perf_counter() - t0):.0f} ms)")
    print(f"{'script':<10} {'characters':>10} {'chunks':>7} {'ms (best of 3)':>15} {'ms unchanged':>13}")
    for language, base, label in (("english", ENGLISH + " ", "English"), ("chinese", CHINESE, "Chinese")):
        rule = rule_for(language)
        for times in (1, 3, 15):
            text = base * times
            best, chunks = float("inf"), []
            for _ in range(3):
                qwen3_split._cut.cache_clear()
                t = time.perf_counter()
                chunks = rule(text)
                best = min(best, time.perf_counter() - t)
            t = time.perf_counter()
            rule(text)  # the same paragraph again (the tokenizer-json path remembers nothing)
            again = time.perf_counter() - t
            print(f"{label:<10} {len(text):>10,} {len(chunks):>7} {1000 * best:>15.1f} {1000 * again:>13.2f}")


if __name__ == "__main__":
    main()
