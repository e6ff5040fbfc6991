"""A minimal LoRA for our fused projections, saved in the PEFT layout.

Our decoder fuses q|k|v and gate|up into one weight each (and on CPU stores the fused ones as
transposed [in, out] views, see engine.lm.llama.fuse_rows). PEFT's LoRA wraps one nn.Linear per
projection, so a PEFT adapter has one (A, B) pair per q/k/v/gate/up. `LoraLinear` keeps one pair
per *part* of a fused weight: part i of the output gets `scale * B_i A_i x`, which is exactly what
PEFT adds to that projection, so the weights map one-to-one onto PEFT's keys.

- Training: `LoraLinear.forward` adds the low-rank path to the frozen base (the multi-position
  `forward` of engine.lm.llama calls the modules, so it sees the adapter).
- Generation: the one-position fast path (`Transformer.step`, `CsmModel.sample_frame`) reads raw
  weights, so the adapter is *merged* in place first (`merge`), and taken out again (`unmerge`) to
  switch back to the base model without reloading it. unmerge subtracts the same delta merge added
  (recomputed bit-identically), so the base comes back to within fp32 rounding of the sum (<= 1 ulp
  of each weight). `Transformer.step` refuses to run while an adapter is attached but unmerged.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.train.settings import ALL_TARGETS, ATTENTION, MLP, PARTS, LoraSettings  # noqa: F401 (re-exported)

# Our module -> (HF module path inside a decoder layer, its parts in output order)
_FUSED = {
    "attention.wqkv": ("self_attn", ("q_proj", "k_proj", "v_proj")),
    "attention.wo": ("self_attn", ("o_proj",)),
    "feed_forward.w13": ("mlp", ("gate_proj", "up_proj")),
    "feed_forward.w2": ("mlp", ("down_proj",)),
}
PEFT_PREFIX = "base_model.model."


class AdapterError(ValueError):
    """An adapter folder that cannot be used with this model (named file, clear reason)."""


class LoraLinear(nn.Module):
    """A frozen (possibly fused) linear plus one low-rank pair per targeted part."""

    def __init__(self, base: nn.Linear, parts: tuple[str, ...], sizes: tuple[int, ...],
                 settings: LoraSettings) -> None:
        super().__init__()
        self.base = base
        self.parts, self.sizes = parts, sizes
        self.scale, self.dropout = settings.scale, settings.dropout
        self.targeted = tuple(p for p in parts if p in settings.targets)
        w = base.weight
        fan_in = w.shape[1]
        self.lora_A = nn.ParameterDict()
        self.lora_B = nn.ParameterDict()
        for p, n in zip(parts, sizes):
            if p in self.targeted:
                a = torch.empty(settings.rank, fan_in, device=w.device, dtype=torch.float32)
                nn.init.kaiming_uniform_(a, a=math.sqrt(5))  # PEFT's default init: A random, B zero
                # fp32 even over a bf16/fp16 base (as peft's autocast_adapter_dtype): tiny updates
                # to small matrices vanish in bf16; the product is cast back to the base's dtype
                self.lora_A[p] = nn.Parameter(a)
                self.lora_B[p] = nn.Parameter(torch.zeros(n, settings.rank, device=w.device, dtype=torch.float32))
        self.merged = False
        self.hf_prefix = ""  # e.g. "backbone_model.layers.0.self_attn." (set by attach)

    @property
    def weight(self) -> torch.Tensor:  # what the one-position fast path binds (the base Parameter)
        return self.base.weight

    def delta(self) -> torch.Tensor:
        """The full [out, in] weight change (merge adds it)."""
        rows = []
        for p, n in zip(self.parts, self.sizes):
            if p in self.targeted:
                rows.append((self.lora_B[p] @ self.lora_A[p]) * self.scale)
            else:
                rows.append(self.base.weight.new_zeros(n, self.base.weight.shape[1], dtype=torch.float32))
        return torch.cat(rows)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.base.weight)
        if self.merged:
            return y
        xd = F.dropout(x, self.dropout, self.training) if self.dropout > 0 else x
        # every part's A in one matmul (x is read once), scaled on the narrow rank-r side
        a = [self.lora_A[p] for p in self.targeted]
        xa = F.linear(xd.to(a[0].dtype), a[0] if len(a) == 1 else torch.cat(a)) * self.scale
        xa = xa.split(a[0].shape[0], dim=-1)
        pieces, j = [], 0
        for p, n in zip(self.parts, self.sizes):
            if p in self.targeted:
                pieces.append(F.linear(xa[j], self.lora_B[p]))
                j += 1
            else:
                pieces.append(xa[0].new_zeros(*y.shape[:-1], n))
        return y + (pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=-1)).to(y.dtype)

    @torch.no_grad()
    def merge(self) -> None:
        if not self.merged:
            self.base.weight.add_(self.delta().to(self.base.weight.dtype))
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        if self.merged:
            self.base.weight.sub_(self.delta().to(self.base.weight.dtype))
            self.merged = False


def _sizes(module: str, cfg) -> tuple[int, ...]:
    q, kv = cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
    return {"attention.wqkv": (q, kv, kv), "attention.wo": (cfg.dim,),
            "feed_forward.w13": (cfg.ffn_dim, cfg.ffn_dim), "feed_forward.w2": (cfg.dim,)}[module]


@dataclass
class Adapter:
    """LoRA attached to a model: its settings and wrappers by PEFT module name."""
    settings: LoraSettings
    modules: dict[str, LoraLinear] = field(default_factory=dict)  # our module path -> wrapper
    transformers: list = field(default_factory=list)

    def parameters(self) -> list[nn.Parameter]:
        out = []
        for m in self.modules.values():
            out += [m.lora_A[p] for p in m.targeted] + [m.lora_B[p] for p in m.targeted]
        return out

    def named_tensors(self) -> dict[str, torch.Tensor]:
        """PEFT's saved keys (adapter name dropped, as `save_pretrained` writes them)."""
        out = {}
        for m in self.modules.values():
            for p in m.targeted:
                key = f"{PEFT_PREFIX}{m.hf_prefix}{p}"
                out[f"{key}.lora_A.weight"] = m.lora_A[p]
                out[f"{key}.lora_B.weight"] = m.lora_B[p]
        return out

    @property
    def merged(self) -> bool:
        return any(m.merged for m in self.modules.values())

    def merge(self) -> None:
        for m in self.modules.values():
            m.merge()
        for t in self.transformers:
            t.adapters_unmerged = False

    def unmerge(self) -> None:
        for m in self.modules.values():
            m.unmerge()
        for t in self.transformers:
            t.adapters_unmerged = True


def attach(model, settings: LoraSettings, seed: int | None = None) -> Adapter:
    """Wrap the targeted projections of `model` (a CsmModel) in place; freezes every base weight.
    Returns the adapter (its A matrices drawn from `seed`'s generator when given)."""
    if getattr(model, "adapter", None) is not None:
        raise RuntimeError("this model already has an adapter attached: detach it first")
    model.requires_grad_(False)
    adapter = Adapter(settings)
    fork = torch.random.fork_rng(devices=[]) if seed is not None else None
    with fork if fork is not None else _null():
        if seed is not None:
            torch.manual_seed(seed)
        for part in settings.parts:
            tf = getattr(model, part)
            adapter.transformers.append(tf)
            for i, layer in enumerate(tf.layers):
                for ours, (kind, names) in _FUSED.items():
                    if not set(names) & set(settings.targets):
                        continue
                    owner_name, attr = ours.split(".")
                    owner = getattr(layer, owner_name)
                    base = getattr(owner, attr)
                    wrapper = LoraLinear(base, names, _sizes(ours, tf.cfg), settings)
                    wrapper.hf_prefix = f"{PARTS[part]}layers.{i}.{kind}."
                    setattr(owner, attr, wrapper)
                    adapter.modules[f"{part}.layers.{i}.{ours}"] = wrapper
            tf.adapters_unmerged = True
    model.adapter = adapter
    return adapter


def detach(model) -> None:
    """Remove the adapter (unmerged first), leaving the base model as it was."""
    adapter = getattr(model, "adapter", None)
    if adapter is None:
        return
    adapter.unmerge()
    for part in adapter.settings.parts:
        tf = getattr(model, part)
        for layer in tf.layers:
            for ours in _FUSED:
                owner_name, attr = ours.split(".")
                owner = getattr(layer, owner_name)
                mod = getattr(owner, attr)
                if isinstance(mod, LoraLinear):
                    setattr(owner, attr, mod.base)
        tf.adapters_unmerged = False
    model.adapter = None


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# -- files ------------------------------------------------------------------------------------
CONFIG_FILE, WEIGHTS_FILE = "adapter_config.json", "adapter_model.safetensors"
MYNAH_FILE = "mynah_adapter.json"  # ours, beside PEFT's files (PEFT warns about unknown config keys)


def read_mynah(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / MYNAH_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_mynah(folder: Path, info: dict) -> None:
    tmp = Path(folder) / (MYNAH_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(Path(folder) / MYNAH_FILE)


def peft_config(settings: LoraSettings, base_model: str = "") -> dict:
    return {
        "peft_type": "LORA", "task_type": None, "base_model_name_or_path": base_model or None,
        "r": settings.rank, "lora_alpha": settings.alpha, "lora_dropout": settings.dropout,
        "target_modules": settings.target_regex(), "bias": "none", "fan_in_fan_out": False,
        "use_rslora": False, "use_dora": False, "init_lora_weights": True, "inference_mode": True,
        "modules_to_save": None, "layers_to_transform": None, "rank_pattern": {}, "alpha_pattern": {},
    }


def save_adapter(adapter: Adapter, folder: Path, base_model: str = "", extra: dict | None = None) -> str:
    """Write adapter_config.json + adapter_model.safetensors (temp files, then rename); returns
    the adapter's hash (SHA-256 of the weights file, first 16 hex digits)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in adapter.named_tensors().items()}
    cfg = peft_config(adapter.settings, base_model)
    # how to rebuild LoraSettings without parsing the regex, plus what the caller adds (base folder)
    ours = {"targets": list(adapter.settings.targets), "parts": list(adapter.settings.parts), **(extra or {})}
    tmp_w, tmp_c = folder / (WEIGHTS_FILE + ".tmp"), folder / (CONFIG_FILE + ".tmp")
    save_file(tensors, str(tmp_w), metadata={"format": "pt"})
    tmp_c.write_text(json.dumps(cfg, indent=2))
    tmp_w.replace(folder / WEIGHTS_FILE)
    tmp_c.replace(folder / CONFIG_FILE)
    write_mynah(folder, ours)
    return adapter_hash(folder)


def adapter_hash(folder: Path) -> str:
    h = hashlib.sha256((Path(folder) / WEIGHTS_FILE).read_bytes())
    return h.hexdigest()[:16]


def read_settings(folder: Path) -> LoraSettings:
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise AdapterError(f"{folder} is not a LoRA adapter: it needs {CONFIG_FILE} and {WEIGHTS_FILE}")
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise AdapterError(f"{path} could not be read: {e}") from None
    if cfg.get("peft_type", "LORA") != "LORA":
        raise AdapterError(f"{path}: only LoRA adapters can be used (this one is {cfg.get('peft_type')})")
    if cfg.get("use_dora") or cfg.get("rank_pattern") or cfg.get("alpha_pattern") or cfg.get("use_rslora"):
        raise AdapterError(f"{path}: DoRA, rsLoRA and per-module ranks are not supported")
    ours = read_mynah(folder)
    targets = ours.get("targets")
    if not targets:  # trained elsewhere: take the names its target_modules mention
        tm = cfg.get("target_modules") or []
        text = tm if isinstance(tm, str) else " ".join(tm)
        targets = [t for t in ALL_TARGETS if t in text]
    parts = ours.get("parts") or list(PARTS)
    return LoraSettings(rank=int(cfg["r"]), alpha=float(cfg["lora_alpha"]), targets=tuple(targets),
                        dropout=0.0, parts=tuple(parts))


def load_adapter(model, folder: Path) -> Adapter:
    """Attach the adapter in `folder` to `model` (unmerged); every tensor checked by key and shape."""
    from safetensors.torch import load_file

    folder = Path(folder)
    settings = read_settings(folder)
    try:
        tensors = load_file(str(folder / WEIGHTS_FILE))
    except Exception as e:  # safetensors raises its own error types
        raise AdapterError(f"{folder / WEIGHTS_FILE} could not be read: {e}") from None
    # PEFT may keep the adapter name in keys (".lora_A.default.weight"); drop it.
    tensors = {k.replace(".default.weight", ".weight"): v for k, v in tensors.items()}
    adapter = attach(model, settings)
    expected = adapter.named_tensors()
    missing = [k for k in expected if k not in tensors]
    stray = [k for k in tensors if k not in expected]
    if missing or stray:
        detach(model)
        what = f"missing {missing[0]}" if missing else f"unexpected {stray[0]}"
        raise AdapterError(f"{folder.name}: the adapter does not fit this model ({what})")
    with torch.no_grad():
        for k, p in expected.items():
            if tuple(tensors[k].shape) != tuple(p.shape):
                detach(model)
                raise AdapterError(f"{folder.name}: {k} has shape {tuple(tensors[k].shape)}, "
                                   f"this model needs {tuple(p.shape)}")
            p.copy_(tensors[k])
    return adapter


def settings_dict(settings: LoraSettings) -> dict:
    d = asdict(settings)
    d["targets"], d["parts"] = list(settings.targets), list(settings.parts)
    return d
