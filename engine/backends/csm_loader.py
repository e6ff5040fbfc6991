"""Loading a CSM model folder: config, weights (mmap'd safetensors, meta-device build), tokenizer, codec.

Accepted layouts:
- a folder written by transformers' `save_pretrained` (model.safetensors or model-0000N-of-... shards);
- the public sesame/csm-1b repository (transformers-0000N-of-00002.safetensors +
  transformers.safetensors.index.json, tokenizer.json, config.json).
Sesame's original checkpoint (model.safetensors in torchtune names, or ckpt.pt; no Mimi) is refused
with the files that are needed (engine/hub/layouts.py says why it is not converted).
Mimi comes from the same weights (`codec_model.*` keys) or from a separate Mimi folder.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from engine.backends.csm_config import CsmSpec
from engine.backends.csm_model import AUDIO_EMB_KEYS, CsmModel, expected_hf_keys, state_dict_from_hf
from engine.backends.csm_recipe import TextTokenizer
from engine.hub.checkpoint import Checkpoint, CheckpointError, open_checkpoint, read_json
from engine.hub.layouts import holds_only_sesame_original, sesame_original_message
from engine.lm import cpu_blas
from engine.lm.config import ConfigError

log = logging.getLogger(__name__)
CODEC_PREFIX = "codec_model."
_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
           "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


def resolve_device_dtype(device: str = "auto", dtype: str = "auto") -> tuple[torch.device, torch.dtype]:
    """auto device = CUDA, then Apple MPS, then CPU (engine/backends/devices.py); CUDA -> bf16, elsewhere
    fp32 unless asked otherwise; fp16 only when asked (it can overflow)."""
    from engine.backends.devices import pick_device

    dev = pick_device(device)
    if dtype == "auto":
        return dev, torch.bfloat16 if dev.type == "cuda" else torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r} (use auto, fp32, bf16 or fp16)")
    if _DTYPES[dtype] is torch.float16:
        log.warning("CSM in fp16 can overflow to NaN in attention; NaN/inf stops generation with an error")
    return dev, _DTYPES[dtype]


def cpu_mkl_layout(dev: torch.device, dt: torch.dtype) -> bool:
    """Whether the fused projections are stored [in, out] (engine.lm.llama.fuse_rows): for torch's
    CPU matmul (MKL's GEMV streams that layout faster). numpy's BLAS, which fp32 CPU steps use,
    streams [out, in] faster (up to 1.4x on wide weights: `benchmarks/bench_gemv.py --pages`), and
    GPUs do not care, so there the checkpoint's own [out, in] layout is kept."""
    return dev.type == "cpu" and not cpu_blas.wanted_for(dev, dt)


@dataclass
class LoadedCsm:
    model: CsmModel
    spec: CsmSpec
    tokenizer: TextTokenizer
    device: torch.device
    dtype: torch.dtype
    weights_sha256: str
    load_codec: Callable[[], Any]  # lazy: Mimi is built on first encode/decode
    config: dict[str, Any] = field(default_factory=dict)


def weights_fingerprint(ckpt: Checkpoint) -> str:
    """SHA-256 of the index file, or of the first shard's header (hashing 6 GB would take minutes)."""
    h = hashlib.sha256()
    if ckpt.described_by is not None:
        h.update(ckpt.described_by.read_bytes())
    else:
        with open(ckpt.files[0].path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            f.seek(0)
            h.update(f.read(8 + n))
    return h.hexdigest()


def _check_weights(ckpt: Checkpoint, spec: CsmSpec) -> None:
    expected = expected_hf_keys(spec)
    table_shape = (spec.n_codebooks * spec.audio_vocab, spec.backbone.dim)
    present = [k for k in AUDIO_EMB_KEYS if k in ckpt]
    if spec.tie_embeddings:
        if not present:
            raise CheckpointError(f"{ckpt.name}: tensor {AUDIO_EMB_KEYS[1]!r} is missing")
        expected[present[0]] = table_shape
    else:
        expected.update({k: table_shape for k in AUDIO_EMB_KEYS})
    ckpt.check(expected)


def load_csm(model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> LoadedCsm:
    model_dir = Path(model_dir)
    if holds_only_sesame_original(model_dir):  # refuse before reading gigabytes
        raise CheckpointError(f"{model_dir} holds {sesame_original_message()}")
    cfg = read_json(model_dir / "config.json")
    try:
        spec = CsmSpec.from_hf(cfg)
    except ConfigError as e:
        raise CheckpointError(f"{model_dir / 'config.json'}: {e}") from None
    tokenizer = TextTokenizer(model_dir / "tokenizer.json")
    ckpt = open_checkpoint(model_dir)
    _check_weights(ckpt, spec)
    dev, dt = resolve_device_dtype(device, dtype)

    # Build without allocating (meta device), then adopt the mmap'd tensors (assign=True): on CPU in
    # the file's dtype this is zero-copy; otherwise `.to` makes the one copy we need.
    with torch.device("meta"):
        model = CsmModel(spec)
    sd = state_dict_from_hf({k: ckpt.tensor(k) for k in ckpt.keys() if not k.startswith(CODEC_PREFIX)}, spec,
                            release=ckpt.release, in_out=cpu_mkl_layout(dev, dt))
    if cpu_blas.wanted_for(dev, dt):  # the heads to [out, in] storage as well (file: [K-1, in, out])
        sd["audio_head"] = sd["audio_head"].transpose(1, 2).contiguous().transpose(1, 2)
        ckpt.release(["depth_decoder.codebooks_head.weight"])
    model.load_state_dict(sd, strict=True, assign=True)
    model = model.to(device=dev, dtype=dt).eval()
    if spec.tie_embeddings:  # `.to` converts each parameter alone; share the one table again
        model.depth_embeddings.weight = model.audio_embeddings.weight
    del sd  # the model holds what it needs (a moved weight must not stay alive here)
    if cpu_blas.wanted_for(dev, dt):  # fp32 CPU: weights in huge pages (faster GEMVs)
        cpu_blas.to_huge_pages(model, moved_from=ckpt.release_memory)
    with torch.inference_mode():
        model.setup_caches()

    def load_codec() -> Any:
        return _load_mimi(ckpt, spec, codec_dir, dev)

    return LoadedCsm(model, spec, tokenizer, dev, dt, weights_fingerprint(ckpt), load_codec, cfg)


def _load_mimi(ckpt: Checkpoint, spec: CsmSpec, codec_dir: Path | None, device: torch.device) -> Any:
    """Mimi in fp32 on the model's device (it is small; bf16 would cost audio quality)."""
    try:
        from engine.codecs.mimi import MimiLoadError, load_mimi, load_mimi_dir
    except ImportError as e:
        raise CheckpointError(f"the Mimi codec is not available in this build ({e})") from None
    try:
        if codec_dir is not None:
            return load_mimi_dir(Path(codec_dir), device=device)
        codec_keys = [k for k in ckpt.keys() if k.startswith(CODEC_PREFIX)]
        if not codec_keys:
            raise CheckpointError(f"{ckpt.name} holds no Mimi codec weights ({CODEC_PREFIX}*); "
                                  "choose a separate Mimi folder")
        if not spec.codec_config:
            raise CheckpointError("config.json has no codec_config for the Mimi weights it holds")
        return load_mimi({k: ckpt.tensor(k) for k in codec_keys}, spec.codec_config, prefix=CODEC_PREFIX,
                         device=device)
    except MimiLoadError as e:
        where = codec_dir if codec_dir is not None else ckpt.name
        raise CheckpointError(f"Mimi codec ({where}): {e}") from None
