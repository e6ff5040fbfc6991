"""Evaluation: ASR/WER with a word diff, speaker similarity, DNSMOS, signal QC, best-of-N, reports.

Entry points (import the submodule; nothing heavy is imported here):
- `engine.eval.scorer.Scorer` / `ScorerConfig` / `TakeScores`: the engine worker's scorer.
- `engine.eval.wer.compute_wer` -> `WerResult` (`.ops`: `DiffOp` spans for the diff view).
- `engine.eval.best_of_n.best_of_n` / `rank` / `RankWeights`.
- `engine.eval.report.run_report`; `engine.eval.qc.signal_qc`; `engine.eval.asr.load_asr`.
See docs/architecture/eval.md.
"""
