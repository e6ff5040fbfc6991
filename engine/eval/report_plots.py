"""PNG plots for the evaluation report (matplotlib, Agg backend, imported only here and lazily)."""
from __future__ import annotations

from pathlib import Path

METRICS = [("wer", "WER (lower is better)"), ("similarity", "speaker similarity (cosine)"),
           ("dnsmos_ovr", "DNSMOS overall (1-5)"), ("combined", "combined score (0-1)")]


def write_plots(rows: list[dict], out_dir: Path) -> list[Path]:
    """distributions.png (one box plot per metric, one box per system) and
    wer_vs_similarity.png (one point per file, coloured by system). Returns the written paths."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    systems = list(dict.fromkeys(r["system"] for r in rows))
    paths: list[Path] = []

    metrics = [(k, label) for k, label in METRICS if any(r.get(k) is not None for r in rows)]
    if metrics:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 4.2), squeeze=False)
        for ax, (key, label) in zip(axes[0], metrics):
            data = [[float(r[key]) for r in rows if r["system"] == s and r.get(key) is not None] for s in systems]
            keep = [(s, d) for s, d in zip(systems, data) if d]
            if keep:
                ax.boxplot([d for _, d in keep], showmeans=True)
                ax.set_xticks(range(1, len(keep) + 1), [s for s, _ in keep], rotation=30, ha="right")
            ax.set_title(label)
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle("Score distributions per system")
        fig.tight_layout()
        p = out_dir / "distributions.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)

    pts = [r for r in rows if r.get("wer") is not None and r.get("similarity") is not None]
    if pts:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for s in systems:
            rs = [r for r in pts if r["system"] == s]
            if rs:
                ax.scatter([r["similarity"] for r in rs], [r["wer"] for r in rs], label=s, alpha=0.75)
        ax.set_xlabel("speaker similarity (cosine, higher is better)")
        ax.set_ylabel("WER (lower is better)")
        ax.set_title("Intelligibility vs. voice match")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        p = out_dir / "wer_vs_similarity.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths
