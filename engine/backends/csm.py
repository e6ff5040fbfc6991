"""Sesame CSM-1B as a Backend (see base.py): text + a reference voice -> Mimi code frames -> audio.

Pieces: csm_loader (folder -> model, tokenizer, lazy Mimi), csm_recipe (prompt rows, position
budget), csm_generate (frame loop), csm_guards (runaway tails), csm_model (the token LM).
Backend options (SamplingParams.options): "codes_only" (bool: no codec, audio stays None),
"repeat_frames", "silence_tail_s", "silence_dbfs" (guard tuning).
"""
from __future__ import annotations

import gc
import logging
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from engine.backends.base import ModelInfo, SamplingParams, SynthStep, VoicePrompt
from engine.backends.csm_generate import generate_frames, make_generator
from engine.backends.csm_guards import GuardSettings, SilenceTrimmer
from engine.backends.csm_loader import LoadedCsm, load_csm
from engine.backends.csm_model import NonFiniteLogitsError
from engine.backends.csm_recipe import (FRAME_RATE, PromptRows, PromptTooLongError, audio_rows,
                                        check_budget, max_frames_for_text, text_rows)
from engine.lm.sampling import SamplerSettings

__all__ = ["CsmBackend", "NonFiniteLogitsError", "PromptTooLongError"]
log = logging.getLogger(__name__)
BACKEND_VERSION = "1"
# Loaded base models by (folder, device, dtype, codec): a tuned voice reuses its base's weights
# when a backend already holds them (and a base load reuses a tuned voice's), so base and tuned
# side by side cost one copy. Plain base loads of the same folder stay independent.
_SHARED: "weakref.WeakValueDictionary[tuple, LoadedCsm]" = weakref.WeakValueDictionary()


class CsmBackend:
    name = "csm"
    trainable = True  # engine/train fine-tunes it (LoRA)
    training_recipe = "csm-lora"  # engine/train/objective.py + lora.py

    def __init__(self) -> None:
        self._loaded: LoadedCsm | None = None
        self._info: ModelInfo | None = None
        self._codec: Any = None
        self._adapter_hash = ""
        self._adapter_dir: Path | None = None

    # -- loading --------------------------------------------------------------------------------
    def load(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> ModelInfo:
        """model_dir: a CSM folder, or a LoRA adapter folder (adapter_config.json: a tuned voice),
        which loads its base model and applies the adapter (merged). A tuned voice shares the
        weights of its base with any other backend that has that base loaded (see _SHARED)."""
        from engine.train.lora import adapter_hash
        from engine.train.tuned import resolve_model_dir

        self.unload()
        base_dir, adapter_dir = resolve_model_dir(Path(model_dir))
        key = (str(base_dir.resolve()), device, dtype, str(codec_dir) if codec_dir else None)
        loaded = _SHARED.get(key)
        if loaded is None or not (adapter_dir is not None or getattr(loaded, "tuned_users", False)):
            loaded = load_csm(base_dir, device=device, dtype=dtype, codec_dir=codec_dir)
            _SHARED[key] = loaded
        if adapter_dir is not None:
            loaded.tuned_users = True
        self._loaded = loaded
        self._adapter_dir = adapter_dir
        self._adapter_hash = adapter_hash(adapter_dir) if adapter_dir is not None else ""
        self._activate()
        codec_cfg = loaded.spec.codec_config
        model_id = str(loaded.config.get("_name_or_path") or base_dir.name)
        weights = loaded.weights_sha256
        if self._adapter_hash:  # every recipe names the adapter too
            model_id, weights = f"{model_id}+{Path(model_dir).name}", f"{weights}+lora:{self._adapter_hash}"
        self._info = ModelInfo(
            model_id=model_id, backend=self.name, adapter_sha256=self._adapter_hash,
            backend_version=BACKEND_VERSION, revision="local", weights_sha256=weights,
            device=str(loaded.device), dtype=str(loaded.dtype).removeprefix("torch."),
            sample_rate=int(codec_cfg.get("sampling_rate", 24000)),
            frame_rate=float(codec_cfg.get("frame_rate", FRAME_RATE)),
            n_codebooks=loaded.spec.n_codebooks, max_positions=loaded.spec.max_positions)
        return self._info

    def set_adapter(self, adapter_dir: Path | None) -> str:
        """Switch base <-> tuned without reloading the base: None takes the adapter out; a folder
        replaces the current one. Returns the adapter's hash ("" for the base)."""
        from engine.train.lora import adapter_hash

        self._need()
        self._adapter_dir = Path(adapter_dir) if adapter_dir is not None else None
        self._adapter_hash = adapter_hash(self._adapter_dir) if self._adapter_dir is not None else ""
        self._activate()
        if self._info is not None:
            base = self._info.weights_sha256.split("+lora:")[0]
            self._info = replace(self._info, adapter_sha256=self._adapter_hash,
                                 weights_sha256=f"{base}+lora:{self._adapter_hash}" if self._adapter_hash else base)
        return self._adapter_hash

    def _activate(self) -> None:
        """Put this backend's adapter (or none) into the model, which other backends may share:
        merged, since generation's fast path reads raw weights (a few hundred ms for CSM-1B)."""
        from engine.train import lora

        loaded = self._need()
        want = str(self._adapter_dir.resolve()) if self._adapter_dir is not None else None
        attached = getattr(loaded.model, "adapter", None)
        # an adapter attached by hand (a trainer, a test) is not a backend's to take out
        current = getattr(loaded, "active_adapter", None) if attached is not None else None
        if want == current:
            return
        lora.detach(loaded.model)
        loaded.active_adapter = None
        if want is not None:
            lora.load_adapter(loaded.model, self._adapter_dir).merge()
            loaded.active_adapter = want

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            raise RuntimeError("no CSM model is loaded")
        return self._info

    def _need(self) -> LoadedCsm:
        if self._loaded is None:
            raise RuntimeError("no CSM model is loaded")
        return self._loaded

    def _codec_model(self) -> Any:
        if self._codec is None:
            self._codec = self._need().load_codec()
        return self._codec

    def unload(self) -> None:
        had_model = self._loaded is not None
        self._loaded, self._info, self._codec = None, None, None
        if not had_model:  # load() calls this first; a full collection then only stalls threads
            return
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- prompt ---------------------------------------------------------------------------------
    def _voice_rows(self, voice: VoicePrompt | None) -> PromptRows | None:
        if voice is None:
            return None
        loaded = self._need()
        codes = np.asarray(voice.payload, dtype=np.int64)
        k = loaded.spec.n_codebooks
        if codes.ndim != 2 or codes.shape[0] < k:
            raise ValueError(f"voice {voice.key!r} holds codes of shape {codes.shape}; CSM needs [{k}, frames]")
        if codes.size and (codes.min() < 0 or codes.max() >= loaded.spec.audio_vocab):
            raise ValueError(f"voice {voice.key!r} holds codes outside 0..{loaded.spec.audio_vocab - 1}; "
                             "it was encoded for another model: encode the reference again")
        ids = loaded.tokenizer.encode_turn(voice.text)
        return PromptRows.concat([text_rows(ids, k), audio_rows(codes[:k], loaded.spec.codebook_eos)])

    def _prompt(self, text: str, voice_rows: PromptRows | None,
                max_audio_seconds: float | None) -> tuple[PromptRows, int]:
        loaded = self._need()
        rows = text_rows(loaded.tokenizer.encode_turn(text), loaded.spec.n_codebooks)
        prompt = rows if voice_rows is None else PromptRows.concat([voice_rows, rows])
        max_frames = max_frames_for_text(text, max_audio_seconds)
        check_budget(len(prompt), max_frames, loaded.spec.max_positions)
        return prompt, max_frames

    def split_text(self, text: str, voice: VoicePrompt | None) -> list[str]:
        from engine.text.chunking import TextTooLongError, chunk_text

        voice_rows = self._voice_rows(voice)

        def fits(chunk: str) -> bool:
            try:
                self._prompt(chunk, voice_rows, None)
            except PromptTooLongError:
                return False
            return True

        try:
            return chunk_text(text, fits=fits)
        except TextTooLongError:
            used = len(voice_rows) if voice_rows is not None else 0
            raise PromptTooLongError(
                f"the voice reference uses {used} of {self._need().spec.max_positions} model positions and "
                "leaves no room for text; use a shorter reference clip (5-15 s works best)") from None

    # -- audio ----------------------------------------------------------------------------------
    def encode_reference(self, audio: np.ndarray, sample_rate: int, text: str, key: str) -> VoicePrompt:
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2 and 1 not in x.shape:
            x = x.mean(axis=1)  # [T, C] -> mono
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError("the reference audio is empty or holds NaN/inf samples")
        k = self._need().spec.n_codebooks
        codes = self._codec_model().encode_np(x.reshape(-1), int(sample_rate))  # [K', F], resamples
        if codes.shape[0] < k:
            raise ValueError(f"the codec gave {codes.shape[0]} codebooks; CSM needs {k}")
        payload = np.ascontiguousarray(codes[:k], dtype=np.int64)
        voice = VoicePrompt(key=key, text=text, n_frames=int(payload.shape[1]), payload=payload)
        room = self._need().spec.max_positions - len(self._voice_rows(voice))
        if room < max_frames_for_text("a few words here"):
            raise PromptTooLongError(
                f"the reference clip ({payload.shape[1] / self.info.frame_rate:.1f} s) leaves no room to "
                f"generate speech within the model's {self._need().spec.max_positions} positions; "
                "use a 5-15 s clip")
        return voice

    def decode_codes(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        """[K, T] codes -> float32 mono audio (a fresh array)."""
        return self._codec_model().decode_np(np.asarray(codes, dtype=np.int64), n_codebooks)

    # -- synthesis ------------------------------------------------------------------------------
    def synthesize(self, text: str, voice: VoicePrompt | None, params: SamplingParams,
                   *, stream_frames: int = 5) -> Iterator[SynthStep]:
        loaded = self._need()
        self._activate()  # the model may be shared with a backend using another adapter
        opts = params.options or {}
        codes_only = bool(opts.get("codes_only", False))
        guards = GuardSettings(**{k: type(getattr(GuardSettings, k))(opts[k]) for k in
                                  ("repeat_frames", "silence_dbfs", "silence_tail_s") if k in opts})
        settings = SamplerSettings(params.temperature, params.top_k, params.top_p, params.repetition_penalty)
        voice_rows = self._voice_rows(voice)
        chunks = self.split_text(text, voice) if text.strip() else []
        if not chunks:
            raise ValueError("there is no text to say")
        codec = None if codes_only else self._codec_model()  # fail before generating, not after
        generator = make_generator(loaded.device, params.seed)
        code_limit = None if codec is None else int(codec.codebook_size)
        frame_index = 0
        for ci, chunk in enumerate(chunks):
            prompt, max_frames = self._prompt(chunk, voice_rows, params.max_audio_seconds)
            stream = None if codec is None else codec.streaming_decoder()
            trimmer = None if codec is None else SilenceTrimmer(codec.sample_rate, codec.frame_rate, guards)
            pending: list[np.ndarray] = []  # frames not yet decoded
            for frame in generate_frames(loaded.model, prompt, settings, max_frames, generator, guards,
                                         code_limit):
                stop = frame.stop_reason
                if frame.codes.size:
                    pending.append(frame.codes)
                audio = None
                if stream is not None and (len(pending) >= stream_frames or (stop and pending)):
                    codes = torch.from_numpy(np.stack(pending, axis=1)).unsqueeze(0)  # [1, K, n]
                    wav = stream.decode_frames(codes)  # [1, 1, n * samples_per_frame]
                    pending = []
                    audio, silent = trimmer.push(wav.reshape(-1).float().cpu().numpy())
                    if silent and stop is None:
                        stop = "silence_tail"
                if stop and trimmer is not None:
                    tail = trimmer.finish()
                    if tail is not None:
                        audio = tail if audio is None else np.concatenate([audio, tail])
                yield SynthStep(frame_index=frame_index, codes=frame.codes if frame.codes.size else None,
                                audio=audio, text_chunk_index=ci, text_chunk_count=len(chunks),
                                done=stop is not None and ci == len(chunks) - 1, stop_reason=stop)
                if frame.codes.size:
                    frame_index += 1
                if stop:
                    break
