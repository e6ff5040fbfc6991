"""The CSM training objective, as transformers' CsmForConditionalGeneration defines it with labels.

One training example is one take laid out as at inference (engine/backends/csm_recipe.py):
    text rows of "[speaker]<transcript>"  +  the take's Mimi frames  +  the all-zero EOS frame
Labels are the frames' codes on audio rows and the EOS row, -100 on text rows and padding. Padding
rows use no column at all (mask False): the reference processor pads with the audio token id, which
would turn padding into audio labels; we never do.

loss = backbone loss + depth loss (equal weight), each a mean as the reference takes it:
- backbone: cross-entropy of codebook 0 at row t from the backbone's hidden state at row t-1,
  averaged over every labelled row of the batch;
- depth decoder: for each trained frame t, the decoder runs over [hidden(t-1), c0..c30] (teacher
  forcing) and its heads predict c1..c31; cross-entropy averaged over frames x 31 codebooks.
Compute amortization (`depth_fraction` < 1): the depth decoder sees a random subset of each
example's audio frames (the EOS frame always); the backbone still sees every frame. The reference
draws the subset in its processor with `depth_decoder_labels_ratio`; we draw it per epoch from
(seed, epoch, example), so a resumed or multi-process run draws the same subsets.

Losses come back as sums and counts so several processes can normalise by the global count (the
sum of their gradients then equals one process's gradient over the whole batch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.backends.csm_recipe import PromptRows, audio_rows, text_rows

IGNORE = -100


@dataclass
class Example:
    tokens: np.ndarray  # [S, K+1] int64
    mask: np.ndarray  # [S, K+1] bool
    labels: np.ndarray  # [S, K] int64, IGNORE where nothing is predicted
    first_audio: int  # row of the first audio frame; the EOS frame is the last row

    def __len__(self) -> int:
        return self.tokens.shape[0]


def build_example(text_ids: list[int], codes: np.ndarray) -> Example:
    """text_ids: the `[speaker]text` turn's ids (TextTokenizer.encode_turn); codes: [K, T]."""
    k = codes.shape[0]
    rows = PromptRows.concat([text_rows(text_ids, k), audio_rows(np.asarray(codes, dtype=np.int64))])
    labels = np.full((len(rows), k), IGNORE, dtype=np.int64)
    labels[len(text_ids):] = rows.tokens[len(text_ids):, :k]
    return Example(rows.tokens, rows.mask, labels, len(text_ids))


def depth_subset(example: Example, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Rows (bool [S]) whose depth-decoder labels are kept: every audio frame when fraction >= 1,
    else a random `fraction` of them (at least one) plus the EOS frame."""
    s = len(example)
    keep = np.zeros(s, dtype=bool)
    frames = np.arange(example.first_audio, s - 1)  # audio frames, EOS excluded
    if fraction >= 1.0:
        keep[frames] = True
    else:
        # the reference skips int(n * (1 - ratio)) frames; keep the rest
        n_keep = max(1, len(frames) - int(len(frames) * (1.0 - fraction)))
        keep[rng.choice(frames, size=n_keep, replace=False)] = True
    keep[s - 1] = True
    return keep


@dataclass
class Batch:
    tokens: torch.Tensor  # [B, S, K+1]
    mask: torch.Tensor  # [B, S, K+1] bool
    labels: torch.Tensor  # [B, S, K]; depth-skipped frames have IGNORE in codebooks 1..K-1

    def to(self, device) -> "Batch":
        return Batch(self.tokens.to(device), self.mask.to(device), self.labels.to(device))


def collate(examples: list[Example], depth_keep: list[np.ndarray] | None = None) -> Batch:
    """Right-pad to the longest example (padding rows: no column used, labels IGNORE)."""
    b, s = len(examples), max(len(e) for e in examples)
    k1 = examples[0].tokens.shape[1]
    tokens = np.zeros((b, s, k1), dtype=np.int64)
    mask = np.zeros((b, s, k1), dtype=bool)
    labels = np.full((b, s, k1 - 1), IGNORE, dtype=np.int64)
    for i, e in enumerate(examples):
        n = len(e)
        tokens[i, :n], mask[i, :n], labels[i, :n] = e.tokens, e.mask, e.labels
        if depth_keep is not None:
            skip = np.zeros(s, dtype=bool)
            skip[:n] = ~depth_keep[i]
            labels[i, skip, 1:] = IGNORE
    return Batch(torch.from_numpy(tokens), torch.from_numpy(mask), torch.from_numpy(labels))


@dataclass
class LossSums:
    backbone_sum: torch.Tensor
    backbone_n: int
    depth_sum: torch.Tensor
    depth_n: int

    def mean(self, backbone_n: int | None = None, depth_n: int | None = None) -> torch.Tensor:
        """backbone mean + depth mean, over these counts (the global ones under several processes)."""
        bn, dn = backbone_n or self.backbone_n, depth_n or self.depth_n
        return self.backbone_sum / max(bn, 1) + self.depth_sum / max(dn, 1)


def embed_rows(model, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """As CsmModel.embed_rows, without the cached offsets buffer (made under inference_mode)."""
    k, v = model.spec.n_codebooks, model.spec.audio_vocab
    offsets = torch.arange(k, device=tokens.device) * v
    text = model.text_embeddings(tokens[..., -1])
    audio = model.audio_embeddings(tokens[..., :-1] + offsets)
    both = torch.cat([audio, text.unsqueeze(2)], dim=2)
    return (both * mask.unsqueeze(-1).to(both.dtype)).sum(dim=2)


def csm_loss(model, batch: Batch) -> LossSums:
    """Sums and counts of both losses for `model` (a CsmModel) on `batch` (see module doc)."""
    spec = model.spec
    k, v = spec.n_codebooks, spec.audio_vocab
    labels = batch.labels
    h = model.backbone.forward_train(embed_rows(model, batch.tokens, batch.mask))  # [B, S, D]
    # Backbone: row t-1 predicts codebook 0 of row t.
    logits0 = model.codebook0_head(h[:, :-1]).float()
    target0 = labels[:, 1:, 0]
    backbone_sum = F.cross_entropy(logits0.reshape(-1, v), target0.reshape(-1), ignore_index=IGNORE,
                                   reduction="sum")
    backbone_n = int((target0 != IGNORE).sum())
    # Depth decoder on the frames whose codebooks 1..K-1 are labelled.
    train = ~(labels[:, :, 1:] == IGNORE).all(dim=-1)  # [B, S]
    bi, ti = train.nonzero(as_tuple=True)
    codes = labels[bi, ti]  # [N, K]
    h_prev = h[bi, ti - 1]  # [N, D]
    offsets = torch.arange(k - 1, device=codes.device) * v
    emb = model.depth_embeddings(codes[:, : k - 1] + offsets)  # [N, K-1, D]
    x = model.projection(torch.cat([h_prev.unsqueeze(1), emb], dim=1))  # [N, K, Dd]
    out = model.decoder.forward_train(x)  # [N, K, Dd]
    logits = torch.einsum("nkd,kdv->nkv", out[:, 1:], model.audio_head).float()  # [N, K-1, V]
    target = codes[:, 1:]
    depth_sum = F.cross_entropy(logits.reshape(-1, v), target.reshape(-1), ignore_index=IGNORE, reduction="sum")
    depth_n = int((target != IGNORE).sum())
    return LossSums(backbone_sum, backbone_n, depth_sum, depth_n)
