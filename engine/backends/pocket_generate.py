"""Pocket TTS generation, driven by us: the package's network modules, our frame loop.

Why our loop and not the package's `generate_audio_stream`: it samples from torch's global RNG (no seed per
take), runs generation and decoding on two threads of its own (no cancel between frames, errors cross
threads), and has no frame budget of its own beyond its length estimate. Here one `torch.Generator`
per take makes the noise, each step is a plain call the worker can stop between, and decoded audio leaves
as a numpy copy.

The numbers match the package's exactly (a test proves it): the text prompt step draws one latent's
worth of noise and discards it, as the package does, so a seed means the same noise in both.

A frame step (flow LM, continuous latents, 12.5 Hz):
  latent_{t-1} [1, 1, ldim] (NaN = BOS) -> input_linear -> transformer (KV cache) -> out [1, D]
  out -> out_eos -> EOS logit;  noise [1, ldim] ~ N(0, temperature) -> flow head -> latent_t
Audio: latents * emb_std + emb_mean -> Mimi decoder (streaming state) -> 1920 samples per frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

MIN_FRAMES_BEFORE_EOS = 6  # the package ignores EOS on the first frames (a voice's EOS logit can spike early)
TOKENS_PER_SECOND = 3.0  # the package's length budget: tokens / 3 + 2 s of frames
BUDGET_PADDING_S = 2.0


class NonFiniteLatentError(RuntimeError):
    """The model produced a NaN/inf latent or EOS logit: the job stops instead of making garbage audio."""


@dataclass(frozen=True)
class PocketSettings:
    temperature: float = 0.3  # variance of the flow noise (the package's `temp`)
    decode_steps: int = 1  # flow/LSD integration steps ("lsd_decode_steps" / "sampler_decode_steps")
    noise_clamp: float | None = None  # truncate the noise to +-clamp (None: plain Gaussian)
    eos_threshold: float = -4.0  # EOS when the EOS logit exceeds this
    frames_after_eos: int | None = None  # frames kept after EOS (None: the model's or the text-length guess)

    def check(self) -> None:
        if not (self.temperature >= 0 and math.isfinite(self.temperature)):
            raise ValueError(f"temperature must be 0 or more, got {self.temperature}")
        if not 1 <= int(self.decode_steps) <= 64:
            raise ValueError(f"decode_steps must be 1-64, got {self.decode_steps}")
        if self.noise_clamp is not None and not self.noise_clamp > 0:
            raise ValueError(f"noise_clamp must be positive (or None), got {self.noise_clamp}")
        if not math.isfinite(self.eos_threshold):
            raise ValueError(f"eos_threshold must be a number, got {self.eos_threshold}")
        if self.frames_after_eos is not None and not 0 <= int(self.frames_after_eos) <= 50:
            raise ValueError(f"frames_after_eos must be 0-50, got {self.frames_after_eos}")


def frame_budget(n_tokens: int, frame_rate: float) -> int:
    """The package's length estimate: speech at ~3 tokens/s plus 2 s, in frames."""
    return math.ceil((n_tokens / TOKENS_PER_SECOND + BUDGET_PADDING_S) * frame_rate)


def make_generator(device: torch.device, seed: int | None) -> torch.Generator:
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def copy_state(state: dict[str, dict[str, torch.Tensor]], capacity: int) -> dict[str, dict[str, torch.Tensor]]:
    """A private copy of a voice state with KV caches grown to `capacity` positions (NaN beyond the
    prompt, as the package's caches are). The cached voice state is never written to."""
    out: dict[str, dict[str, torch.Tensor]] = {}
    for name, module_state in state.items():
        new = {}
        for key, t in module_state.items():
            if key == "cache" and t.shape[2] < capacity:
                grown = torch.full((t.shape[0], t.shape[1], capacity, *t.shape[3:]), float("nan"),
                                   dtype=t.dtype, device=t.device)
                grown[:, :, : t.shape[2]] = t
                new[key] = grown
            else:
                new[key] = t.clone()
        out[name] = new
    return out


def state_end(state: dict[str, dict[str, torch.Tensor]]) -> int:
    """Positions already used in a flow-LM state (the voice prompt's length)."""
    for module_state in state.values():
        if "offset" in module_state:
            return int(module_state["offset"].view(-1)[0])
    return 0


class LatentSampler:
    """Generates the latent frames of one text chunk. `prompt(tokens)` once, then `step()` per frame."""

    def __init__(self, model: Any, state: dict, settings: PocketSettings, generator: torch.Generator,
                 autocast_dtype: torch.dtype | None = None) -> None:
        from pocket_tts.models import flow_lm as flow_mod
        from pocket_tts.modules.stateful_module import increment_steps

        self.fl = model.flow_lm
        self.state = state
        self.settings = settings
        self.gen = generator
        self._increment = increment_steps
        self._decode = {"lsd": flow_mod.lsd_decode, "flow_matching": flow_mod.ot_decode,
                        "drifting": flow_mod.drifting_decode, "pointwise": flow_mod.pointwise_decode}[self.fl.flow_type]
        self.device = next(self.fl.parameters()).device
        self.autocast = autocast_dtype
        with torch.no_grad():
            self._no_text = self.fl.conditioner(torch.zeros((1, 0), dtype=torch.long, device=self.device))  # [1, 0, D]
        self._last = torch.full((1, 1, self.fl.ldim), float("nan"), device=self.device)  # BOS

    def _ctx(self):
        if self.autocast is None:
            import contextlib

            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast)

    def _noise(self) -> torch.Tensor:
        s = self.settings
        noise = torch.empty((1, self.fl.ldim), dtype=torch.float32, device=self.device)  # [1, ldim]
        std = s.temperature ** 0.5
        if s.noise_clamp is None:
            torch.nn.init.normal_(noise, mean=0.0, std=std, generator=self.gen)
        else:
            torch.nn.init.trunc_normal_(noise, mean=0.0, std=std, a=-s.noise_clamp, b=s.noise_clamp,
                                        generator=self.gen)
        return noise

    def _backbone(self, seq: torch.Tensor, text: torch.Tensor, n: int) -> torch.Tensor:
        """seq: [1, S, ldim] latents (NaN = BOS); text: [1, L, D] conditioning. -> [1, D'] float32."""
        fl = self.fl
        seq = torch.where(torch.isnan(seq), fl.bos_emb, seq)
        with self._ctx():
            out = fl.backbone(fl.input_linear(seq), text, seq, model_state=self.state)  # [1, S or L, D']
        self._increment(fl, self.state, increment=n)
        return out.to(torch.float32)[:, -1]

    @torch.no_grad()
    def prompt(self, tokens: torch.Tensor) -> None:
        """tokens: [1, n] text ids. Fills the KV cache; draws one noise sample as the package does."""
        self._backbone(self.fl.input_linear.weight.new_empty((1, 0, self.fl.ldim)),
                       self.fl.conditioner(tokens), tokens.shape[1])
        self._noise()  # the package samples (and drops) a latent here: keep the seeds aligned

    @torch.no_grad()
    def step(self) -> tuple[torch.Tensor, bool, float]:
        """-> (latent [1, 1, ldim] float32, eos, eos_logit)."""
        out = self._backbone(self._last, self._no_text, 1)  # [1, D']
        eos_logit = self.fl.out_eos(out)  # [1, 1]
        latent = self._decode(partial(self.fl.flow_net, out), self._noise(), int(self.settings.decode_steps))
        if not (torch.isfinite(latent).all() and torch.isfinite(eos_logit).all()):
            raise NonFiniteLatentError("the model produced NaN/inf values; try fp32 (bf16/fp16 can overflow) "
                                       "or another seed")
        self._last = latent[:, None, :]  # [1, 1, ldim]
        logit = float(eos_logit.view(-1)[0])
        return self._last, logit > self.settings.eos_threshold, logit


class LatentDecoder:
    """Streaming Mimi decoding of latent frames: any grouping of frames gives the same samples."""

    def __init__(self, model: Any, max_frames: int) -> None:
        from pocket_tts.modules.stateful_module import increment_steps, init_states

        self.mimi = model.mimi
        self.fl = model.flow_lm
        self.steps_per_latent = int(self.mimi.encoder_frame_rate / self.mimi.frame_rate)
        self.state = init_states(self.mimi, batch_size=1, sequence_length=max_frames * self.steps_per_latent)
        self._increment = increment_steps
        sr = int(model.config.mimi.sample_rate)
        # A fresh decoder state starts with a small step (a click): the package fades the first 5 ms in.
        self._fade: torch.Tensor | None = torch.linspace(0, 1, sr // 200)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> np.ndarray:
        """latents: [1, n, ldim] -> float32 numpy [n * samples_per_frame], a copy."""
        x = latents.to(torch.float32) * self.fl.emb_std + self.fl.emb_mean
        audio = self.mimi.decode_from_latent(x, self.state)  # [1, 1, T]
        if self._fade is not None:
            n = min(self._fade.numel(), audio.shape[-1])
            audio[..., :n] *= self._fade[:n].to(audio)
            self._fade = None
        self._increment(self.mimi, self.state, increment=self.steps_per_latent * latents.shape[1])
        return audio.reshape(-1).to(torch.float32).cpu().numpy().copy()


class BackgroundDecoder:
    """Runs a LatentDecoder on its own thread, so Mimi decodes frame groups while the flow LM makes the
    next frames (two cores busy, as in the package). Groups are decoded in the order submitted, each as
    one call, so the samples do not depend on thread timing. Errors come back to the caller's thread."""

    def __init__(self, decoder: LatentDecoder) -> None:
        import queue
        import threading

        self.decoder = decoder
        self._in: queue.Queue = queue.Queue()
        self._out: queue.Queue = queue.Queue()
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="pocket-mimi-decoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                latents = self._in.get()
                if latents is None:
                    break
                self._out.put(("audio", self.decoder.decode(latents)))
        except BaseException as e:  # reported on the generating thread by ready()/finish()
            self._out.put(("error", e))
        self._out.put(("end", None))

    def submit(self, latents: torch.Tensor) -> None:
        self._in.put(latents)

    def _take(self, block: bool) -> list[np.ndarray]:
        import queue

        out = []
        while True:
            try:
                kind, value = self._out.get(block=block)
            except queue.Empty:
                return out
            if kind == "error":
                self._ended = True
                raise value
            if kind == "end":
                self._ended = True
                return out
            out.append(value)

    def ready(self) -> list[np.ndarray]:
        """Audio of the groups decoded so far (never waits)."""
        return self._take(block=False)

    def finish(self) -> list[np.ndarray]:
        """Waits for every submitted group; the thread ends."""
        self._in.put(None)
        return self._take(block=True)

    def close(self) -> None:
        """Stops the thread (cancel): the group being decoded finishes, the rest is dropped."""
        if not self._ended:
            while not self._in.empty():
                try:
                    self._in.get_nowait()
                except Exception:
                    break
            self._in.put(None)
        self._thread.join(timeout=5)
