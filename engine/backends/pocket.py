"""Kyutai's Pocket TTS as a Backend (see base.py): text + a voice state -> continuous Mimi latents -> audio.

Pieces: pocket_load (folder -> the package's network modules with our checks), pocket_voice (reference clip
-> voice state, stored and reloaded), pocket_generate (our frame loop and streaming decoder).
`SynthStep.codes` is None; `SynthStep.latent` carries each [ldim] latent frame (the studio's heat map).

Backend options (SamplingParams.options): "decode_steps" (flow steps, default 1), "noise_clamp" (None),
"eos_threshold" (the model's default), "frames_after_eos" (None: the model's or a text-length guess),
"trim_silence" (default True), "silence_tail_s", "silence_dbfs" (guards, as CSM's), "threads" (torch CPU
threads while generating). top_k, top_p and repetition_penalty do not apply to a continuous model.
"""
from __future__ import annotations

import gc
import json
import logging
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from engine.backends.base import ModelInfo, SamplingParams, SynthStep, VoicePrompt
from engine.backends.csm_guards import GuardSettings, SilenceTrimmer
from engine.backends.pocket_generate import (MIN_FRAMES_BEFORE_EOS, BackgroundDecoder, LatentDecoder, LatentSampler,
                                             NonFiniteLatentError, PocketSettings, copy_state, frame_budget,
                                             make_generator, state_end)
from engine.backends.pocket_load import CLONING_PAGE, LoadedPocket, PocketLoadError, load_pocket
from engine.lm import cpu_blas
from engine.backends.pocket_voice import NoCloningError, check_state, encode_voice, load_state, save_state

__all__ = ["PocketBackend", "PocketLoadError", "NoCloningError", "NonFiniteLatentError"]
log = logging.getLogger(__name__)
BACKEND_VERSION = "1"
MAX_TOKENS_PER_CHUNK = 50  # the package's chunk size: the model is trained on single sentences
_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
           "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


def _settings(params: SamplingParams, config: Any) -> PocketSettings:
    opts = params.options or {}
    clamp = opts.get("noise_clamp")
    fae = opts.get("frames_after_eos")
    s = PocketSettings(temperature=float(params.temperature),
                       decode_steps=int(opts.get("decode_steps", 1)),
                       noise_clamp=None if clamp is None else float(clamp),
                       eos_threshold=float(opts.get("eos_threshold", config.default_eos_threshold)),
                       frames_after_eos=None if fae is None else int(fae))
    s.check()
    return s


class PocketBackend:
    name = "pocket"

    def __init__(self) -> None:
        self._loaded: LoadedPocket | None = None
        self._info: ModelInfo | None = None
        self._blas = False  # the flow LM routed through numpy's BLAS (set by load)

    # -- loading --------------------------------------------------------------------------------
    def load(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> ModelInfo:
        from engine.backends.devices import pick_device

        self.unload()
        dev = pick_device(device)
        int8 = dtype == "int8"
        if int8 and dev.type != "cpu":
            raise ValueError("int8 (dynamic quantization) runs on the CPU only; use fp32/bf16 on a GPU")
        if dtype == "auto" or int8:
            dt = torch.float32  # 100M parameters: fp32 is fast enough everywhere and the released precision
        elif dtype in _DTYPES:
            dt = _DTYPES[dtype]
            if dt is not torch.float32 and dev.type == "cpu":
                raise ValueError(f"{dtype} on the CPU is slower than fp32 for Pocket TTS; use fp32 (or auto)")
        else:
            raise ValueError(f"unknown dtype {dtype!r} (use auto, fp32, bf16, fp16 or int8)")
        loaded = load_pocket(Path(model_dir), dev, dt)
        if int8:  # the package's own recipe: attention and FFN linears int8, flow head and Mimi fp32
            import warnings

            from pocket_tts.quantization import RECOMMENDED_CONFIG, apply_dynamic_int8

            with warnings.catch_warnings():  # torch.ao's deprecation notice: the package picks torchao when present
                warnings.simplefilter("ignore")
                apply_dynamic_int8(loaded.model.flow_lm, RECOMMENDED_CONFIG)
        # fp32 on the CPU: the flow LM's one-row products through numpy's BLAS (engine/lm/cpu_blas.py)
        self._blas = cpu_blas.wanted(loaded.model.flow_lm.input_linear.weight)
        if self._blas:
            cpu_blas.route_linears(loaded.model.flow_lm)
            cpu_blas.to_huge_pages(loaded.model.flow_lm)
        manifest = _manifest(Path(model_dir))
        cfg = loaded.model.config
        self._loaded = loaded
        self._info = ModelInfo(
            model_id=manifest.get("model_id") or f"pocket-tts/{loaded.folder.variant}", backend=self.name,
            backend_version=BACKEND_VERSION, revision=manifest.get("revision") or "local",
            weights_sha256=loaded.weights_sha256, device=str(dev),
            dtype="int8-dynamic" if int8 else str(dt).removeprefix("torch."),
            sample_rate=int(cfg.mimi.sample_rate), frame_rate=float(cfg.mimi.frame_rate), n_codebooks=0,
            max_positions=0)
        return self._info

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            raise RuntimeError("no Pocket TTS model is loaded")
        return self._info

    def _need(self) -> LoadedPocket:
        if self._loaded is None:
            raise RuntimeError("no Pocket TTS model is loaded")
        return self._loaded

    @property
    def language(self) -> str:
        """ISO 639-1 of the loaded variant (the worker normalizes text for it)."""
        from engine.backends.pocket_load import variant_language

        return variant_language(self._need().folder.variant)

    @property
    def has_cloning(self) -> bool:
        return self._need().has_cloning

    @property
    def preset_voices(self) -> dict[str, Path]:
        """Preset voice name -> its state file (the embeddings/ folder the repos ship)."""
        return dict(self._need().folder.presets)

    @property
    def defaults(self) -> dict[str, float]:
        cfg = self._need().model.config
        return {"temperature": float(cfg.default_temperature), "eos_threshold": float(cfg.default_eos_threshold)}

    def unload(self) -> None:
        had_model = self._loaded is not None
        self._loaded, self._info = None, None
        if not had_model:
            return
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- voices ---------------------------------------------------------------------------------
    def encode_reference(self, audio: np.ndarray, sample_rate: int, text: str, key: str) -> VoicePrompt:
        loaded = self._need()
        if not loaded.has_cloning:
            presets = ", ".join(sorted(loaded.folder.presets)) or "none in this folder"
            raise NoCloningError(
                "these Pocket TTS weights come without voice cloning (the public repository), so a reference "
                f"clip cannot be used. Choose a preset voice ({presets}), or accept the terms at {CLONING_PAGE}, "
                "add your Hugging Face token in Models and download the voice-cloning variant.")
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2 and 1 not in x.shape:
            x = x.mean(axis=1)
        x = x.reshape(-1)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError("the reference audio is empty or holds NaN/inf samples")
        state = encode_voice(loaded.model, x, int(sample_rate))
        return VoicePrompt(key=key, text=text, n_frames=state_end(state), payload=state)

    def save_voice(self, voice: VoicePrompt, path: Path) -> None:
        save_state(voice.payload, path, {"weights_sha256": self.info.weights_sha256, "key": voice.key,
                                         "text": voice.text})

    def load_voice(self, path: Path, key: str, text: str = "") -> VoicePrompt:
        """A stored voice state (ours, or a preset from the repo's embeddings/ folder)."""
        state, meta = load_state(Path(path), self._need().device)
        check_state(state, self._need().model)
        return VoicePrompt(key=key, text=text or meta.get("text", ""), n_frames=state_end(state), payload=state)

    # -- text -----------------------------------------------------------------------------------
    def _tokenizer(self) -> Any:
        return self._need().model.flow_lm.conditioner.tokenizer

    def _prepare(self, text: str) -> tuple[str, int]:
        from pocket_tts.models.text_chunking import prepare_text_prompt

        m = self._need().model
        return prepare_text_prompt(text, m.pad_with_spaces_for_short_inputs, m.remove_semicolons,
                                   m.append_terminal_punctuation, m.capitalize_first_letter, m.replace_characters)

    def split_text(self, text: str, voice: VoicePrompt | None) -> list[str]:
        """Sentences grouped up to 50 tokens (the voice takes no room: it lives in the KV cache)."""
        from pocket_tts.models.text_chunking import split_into_best_sentences

        if not text.strip():
            return []
        m = self._need().model
        return split_into_best_sentences(self._tokenizer(), text, MAX_TOKENS_PER_CHUNK,
                                         m.pad_with_spaces_for_short_inputs, m.remove_semicolons,
                                         m.append_terminal_punctuation, m.capitalize_first_letter,
                                         m.replace_characters)

    def decode_codes(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        raise NotImplementedError("Pocket TTS makes continuous latents, not codec codes: there are no "
                                  "codebooks to listen to")

    def decode_latents(self, latents: np.ndarray) -> np.ndarray:
        """[ldim, T] latents (a take's heat map) -> float32 audio: the whole take decoded at once."""
        loaded = self._need()
        x = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32).T)[None].to(loaded.device)  # [1, T, ldim]
        return LatentDecoder(loaded.model, x.shape[1]).decode(x)

    # -- synthesis ------------------------------------------------------------------------------
    def synthesize(self, text: str, voice: VoicePrompt | None, params: SamplingParams,
                   *, stream_frames: int = 5) -> Iterator[SynthStep]:
        loaded = self._need()
        model = loaded.model
        cfg = model.config
        opts = params.options or {}
        settings = _settings(params, cfg)
        guards = GuardSettings(**{k: type(getattr(GuardSettings, k))(opts[k]) for k in
                                  ("silence_dbfs", "silence_tail_s") if k in opts})
        trim = bool(opts.get("trim_silence", True))
        threads = opts.get("threads")
        if voice is not None:
            check_state(voice.payload, model)
        chunks = self.split_text(text, voice)
        if not chunks:
            raise ValueError("there is no text to say")
        generator = make_generator(loaded.device, params.seed)
        autocast = None if loaded.dtype is torch.float32 else loaded.dtype
        fr = float(cfg.mimi.frame_rate)
        sr = int(cfg.mimi.sample_rate)
        old_threads = torch.get_num_threads()
        if threads:
            torch.set_num_threads(int(threads))
        if self._blas:  # Mimi decodes on a second thread meanwhile: the flow LM's BLAS leaves it a core
            cpu_blas.match_threads(max(1, torch.get_num_threads() - 1))
        try:
            frame_index = 0
            for ci, chunk in enumerate(chunks):
                prepared, guess = self._prepare(chunk)
                tokens = model.flow_lm.conditioner.prepare(prepared)  # [1, n]
                max_frames = frame_budget(tokens.shape[1], fr)
                if params.max_audio_seconds:
                    max_frames = max(1, min(max_frames, math.ceil(params.max_audio_seconds * fr)))
                after_eos = settings.frames_after_eos
                if after_eos is None:
                    after_eos = model.model_recommended_frames_after_eos
                if after_eos is None:
                    after_eos = guess + 2
                yield from self._chunk(loaded, voice, tokens, settings, generator, autocast, max_frames,
                                       int(after_eos), stream_frames, SilenceTrimmer(sr, fr, guards) if trim else None,
                                       ci, len(chunks), frame_index)
                frame_index = self._frames_done
        finally:
            if threads:
                torch.set_num_threads(old_threads)

    def _chunk(self, loaded: LoadedPocket, voice: VoicePrompt | None, tokens: torch.Tensor,
               settings: PocketSettings, generator: torch.Generator, autocast: Any, max_frames: int,
               after_eos: int, stream_frames: int, trimmer: SilenceTrimmer | None, ci: int, n_chunks: int,
               frame_index: int) -> Iterator[SynthStep]:
        from pocket_tts.modules.stateful_module import init_states

        model = loaded.model
        if voice is not None:
            state = copy_state(voice.payload, state_end(voice.payload) + tokens.shape[1] + max_frames)
        else:
            state = init_states(model.flow_lm, batch_size=1, sequence_length=tokens.shape[1] + max_frames)
        sampler = LatentSampler(model, state, settings, generator, autocast)
        sampler.prompt(tokens)
        decoder = BackgroundDecoder(LatentDecoder(model, max_frames))
        pending: list[torch.Tensor] = []
        submitted_any = False
        eos_at: int | None = None
        last = ci == n_chunks - 1
        self._frames_done = frame_index
        try:
            for i in range(max_frames):
                latent, eos, _ = sampler.step()
                if eos and eos_at is None and i >= MIN_FRAMES_BEFORE_EOS:
                    eos_at = i
                stop = None
                keep = True
                if eos_at is not None and i >= eos_at + after_eos:
                    stop, keep = "eos", False  # the package stops before this frame, so do we
                elif i == max_frames - 1:
                    stop = "max_frames"
                if keep:
                    pending.append(latent)
                # Frame 0 is decoded alone (first sound as early as possible), then every stream_frames.
                if pending and (stop or len(pending) >= (stream_frames if submitted_any else 1)):
                    decoder.submit(torch.cat(pending, dim=1))  # [1, n, ldim]
                    pending, submitted_any = [], True
                pieces = decoder.finish() if stop else decoder.ready()
                audio, silent = _through_trimmer(pieces, trimmer)
                if silent and stop is None:
                    stop = "silence_tail"  # frames still being decoded are dropped with the silence
                if stop and trimmer is not None:
                    tail = trimmer.finish()
                    if tail is not None:
                        audio = tail if audio is None else np.concatenate([audio, tail])
                lat = latent.reshape(-1).to(torch.float32).cpu().numpy().copy() if keep else None  # [ldim]
                yield SynthStep(frame_index=self._frames_done, latent=lat, audio=audio, text_chunk_index=ci,
                                text_chunk_count=n_chunks, done=stop is not None and last, stop_reason=stop)
                if keep:
                    self._frames_done += 1
                if stop:
                    return
        finally:
            decoder.close()


def _through_trimmer(pieces: list[np.ndarray], trimmer: SilenceTrimmer | None) -> tuple[np.ndarray | None, bool]:
    """Decoded audio pieces -> (audio to play now or None, whether a silent tail says stop)."""
    if not pieces:
        return None, False
    if trimmer is None:
        return np.concatenate(pieces), False
    out, silent = [], False
    for wav in pieces:
        audio, silent = trimmer.push(wav)
        if audio is not None:
            out.append(audio)
        if silent:
            break
    return (np.concatenate(out) if out else None), silent


def _manifest(model_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((model_dir / "mynah-manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
