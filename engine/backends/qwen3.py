"""Qwen3-TTS (12 Hz) as a Backend (see base.py): text + a voice -> 16-codebook frames -> audio.

Pieces: qwen3_loader (folder -> LM), qwen3_prompt (the talker prompt), qwen3_generate (frame loop),
qwen3_speaker (speaker embedding of a reference), qwen3_text (Qwen2 tokenizer), and
engine/codecs/qwen3_codec (speech_tokenizer/: streaming decoder).

Voices: a Base model clones from the reference's speaker embedding plus, when the reference has a
transcript, its codes and text in context (the reference's default); with no transcript from the
speaker embedding alone ("reference audio only"). CustomVoice models take a preset speaker
(option "speaker").
Options (SamplingParams.options): "language" ("auto" or a language the model knows), "speaker",
"instruct" (a style instruction / a VoiceDesign description), "codes_only", and the guard settings
"repeat_frames", "silence_tail_s", "silence_dbfs".
"""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from engine.backends.base import ModelInfo, SamplingParams, SynthStep, VoicePrompt
from engine.backends.csm_guards import GuardSettings, SilenceTrimmer
from engine.backends.csm_recipe import check_budget
from engine.backends.qwen3_generate import Qwen3Sampling, generate_frames, make_generator
from engine.backends.qwen3_loader import LoadedQwen3, load_qwen3
from engine.backends.qwen3_prompt import build_prompt
from engine.backends.qwen3_split import max_frames_for_text, prompt_positions, split
from engine.backends.qwen3_text import QwenTextTokenizer
from engine.lm.sampling import SamplerSettings

BACKEND_VERSION = "2"  # 2: CJK characters count as syllables in the frame cap; CJK sentence cuts
SAMPLE_RATE, FRAME_RATE = 24000, 12.5


class Qwen3Backend:
    name = "qwen3"

    def __init__(self) -> None:
        self._loaded: LoadedQwen3 | None = None
        self._info: ModelInfo | None = None
        self._dir: Path | None = None
        self._codec_dir: Path | None = None
        self._codec: Any = None
        self._speaker: Any = None
        self._tok: QwenTextTokenizer | None = None

    # -- loading --------------------------------------------------------------------------------
    def load(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto",
             codec_dir: Path | None = None) -> ModelInfo:
        self.unload()
        model_dir = Path(model_dir)
        loaded = load_qwen3(model_dir, device=device, dtype=dtype)
        self._tok = QwenTextTokenizer(model_dir)
        self._loaded, self._dir = loaded, model_dir
        self._codec_dir = Path(codec_dir) if codec_dir else model_dir / "speech_tokenizer"
        self._info = ModelInfo(
            model_id=model_dir.name, backend=self.name, backend_version=BACKEND_VERSION, revision="local",
            weights_sha256=loaded.weights_sha256, device=str(loaded.device),
            dtype=str(loaded.dtype).removeprefix("torch."), sample_rate=SAMPLE_RATE, frame_rate=FRAME_RATE,
            n_codebooks=loaded.spec.n_codebooks, max_positions=loaded.model.talker.max_positions)
        return self._info

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            raise RuntimeError("no Qwen3-TTS model is loaded")
        return self._info

    def _need(self) -> LoadedQwen3:
        if self._loaded is None:
            raise RuntimeError("no Qwen3-TTS model is loaded")
        return self._loaded

    def _codec_model(self) -> Any:
        if self._codec is None:
            from engine.codecs.qwen3_codec import load_qwen3_codec

            loaded = self._need()
            self._codec = load_qwen3_codec(self._codec_dir, loaded.device, loaded.dtype)
        return self._codec

    def unload(self) -> None:
        had = self._loaded is not None
        self._loaded = self._info = self._codec = self._speaker = self._tok = None
        if had:
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    # -- voices ---------------------------------------------------------------------------------
    def encode_reference(self, audio: np.ndarray, sample_rate: int, text: str, key: str) -> VoicePrompt:
        from engine.audio.resample import resample
        from engine.backends.qwen3_speaker import load_speaker_encoder
        from engine.hub.checkpoint import open_checkpoint

        loaded = self._need()
        if loaded.spec.model_type != "base":
            raise ValueError(f"this is a {loaded.spec.model_type.replace('_', ' ')} model: it does not clone "
                             "voices (use a Base model, or pick one of its preset speakers)")
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2 and 1 not in x.shape:
            x = x.mean(axis=1)
        x = x.reshape(-1)
        if x.size < sample_rate // 2 or not np.all(np.isfinite(x)):
            raise ValueError("the reference audio is shorter than half a second or holds NaN/inf samples")
        if self._speaker is None:
            self._speaker = load_speaker_encoder(open_checkpoint(self._dir), loaded.config["speaker_encoder_config"],
                                                 loaded.device, loaded.dtype)
        x24 = resample(x, int(sample_rate), SAMPLE_RATE) if sample_rate != SAMPLE_RATE else x
        emb = self._speaker.embed(np.clip(x24, -1.0, 1.0)).float().cpu().numpy()
        payload: dict[str, Any] = {"speaker_embedding": emb}
        if text.strip():  # in-context cloning: the reference's codes beside its transcript
            payload["ref_codes"] = self._codec_model().encode_np(x24, SAMPLE_RATE).T.copy()  # [T, 16]
        voice = VoicePrompt(key=key, text=text, n_frames=int(np.ceil(len(x24) / (SAMPLE_RATE / FRAME_RATE))),
                            payload=payload)
        self._budget("a few words here", None, voice)  # a reference too long to leave room says so now
        return voice

    def _speaker_embedding(self, voice: VoicePrompt | None) -> torch.Tensor | None:
        if voice is None:
            return None
        emb = np.asarray((voice.payload or {}).get("speaker_embedding"), dtype=np.float32)
        if emb.shape != (self._need().spec.talker.dim,):
            raise ValueError(f"voice {voice.key!r} was encoded for another model: encode the reference again")
        return torch.from_numpy(emb)

    # -- text -----------------------------------------------------------------------------------
    def _icl(self, voice: VoicePrompt | None) -> tuple[list[int], np.ndarray] | None:
        """The reference's transcript ids and codes [T, 16] when the voice clones in context."""
        if voice is None or not voice.text.strip() or "ref_codes" not in (voice.payload or {}):
            return None
        codes = np.asarray(voice.payload["ref_codes"], dtype=np.int64)
        if codes.ndim != 2 or codes.shape[1] != self._need().spec.n_codebooks or codes.max(initial=0) >= 2048:
            raise ValueError(f"voice {voice.key!r} holds codes for another model: encode the reference again")
        return self._tok.reference(voice.text), codes

    def _reference_positions(self, voice: VoicePrompt | None) -> int:
        icl = self._icl(voice)
        return 0 if icl is None else len(icl[0]) + len(icl[1])

    def _budget(self, text: str, max_audio_seconds: float | None, voice: VoicePrompt | None = None,
                extra_positions: int = 0) -> tuple[list[int], int]:
        ids = self._tok.target(text)
        max_frames = max_frames_for_text(text, max_audio_seconds)
        prompt = prompt_positions(len(ids), self._reference_positions(voice) + extra_positions)
        check_budget(prompt, max_frames, self.info.max_positions)
        return ids, max_frames

    def split_text(self, text: str, voice: VoicePrompt | None, *, extra_positions: int = 0) -> list[str]:
        """qwen3_split's rule (the one the Synthesize editor previews with), on this voice's reference;
        `extra_positions`: prompt positions the take adds (a style instruction or voice description)."""
        self._need()
        return split(text, self._tok.target, reference_positions=self._reference_positions(voice) + extra_positions,
                     max_positions=self.info.max_positions)

    def decode_codes(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        return self._codec_model().decode_np(np.asarray(codes, dtype=np.int64), n_codebooks)

    # -- synthesis ------------------------------------------------------------------------------
    def synthesize(self, text: str, voice: VoicePrompt | None, params: SamplingParams,
                   *, stream_frames: int = 5) -> Iterator[SynthStep]:
        loaded = self._need()
        opts = params.options or {}
        guards = GuardSettings(**{k: type(getattr(GuardSettings, k))(opts[k]) for k in
                                  ("repeat_frames", "silence_dbfs", "silence_tail_s") if k in opts})
        sampling = Qwen3Sampling(SamplerSettings(params.temperature, params.top_k, params.top_p,
                                                 params.repetition_penalty), loaded.sampling.predictor)
        instruct = opts.get("instruct")
        instruct_ids = torch.tensor([self._tok.instruction(instruct)]) if instruct else None
        # The instruction is in every chunk's prompt: a worker's chunk packed to the limit without it is
        # cut again here rather than running past the KV cache.
        extra = 0 if instruct_ids is None else instruct_ids.shape[1]
        chunks = self.split_text(text, voice, extra_positions=extra) if text.strip() else []
        if not chunks:
            raise ValueError("there is no text to say")
        spk = self._speaker_embedding(voice)
        icl = self._icl(voice)
        dev = loaded.device
        ref_ids = None if icl is None else torch.tensor([icl[0]], device=dev)
        ref_codes = None if icl is None else torch.from_numpy(icl[1]).to(dev)
        codec = None if opts.get("codes_only") else self._codec_model()  # fail before generating
        generator = make_generator(loaded.device, params.seed)
        frame_index = 0
        for ci, chunk in enumerate(chunks):
            ids, max_frames = self._budget(chunk, params.max_audio_seconds, voice, extra)
            with torch.inference_mode():
                prompt = build_prompt(loaded.model, torch.tensor([ids], device=loaded.device),
                                      language=str(opts.get("language", "auto")), speaker_embedding=spk,
                                      speaker=opts.get("speaker"), ref_ids=ref_ids, ref_codes=ref_codes,
                                      instruct_ids=None if instruct_ids is None else instruct_ids.to(dev),
                                      non_streaming=bool(opts.get("non_streaming", voice is None)))
            stream = None if codec is None else codec.streaming_decoder(max_frames)
            trimmer = None if codec is None else SilenceTrimmer(SAMPLE_RATE, FRAME_RATE, guards)
            pending: list[np.ndarray] = []
            for frame in generate_frames(loaded.model, prompt, sampling, max_frames, generator, guards):
                stop = frame.stop_reason
                if frame.codes.size:
                    pending.append(frame.codes)
                audio = None
                if stream is not None and (len(pending) >= stream_frames or (stop and pending)):
                    codes = torch.from_numpy(np.stack(pending, axis=1)).unsqueeze(0).to(loaded.device)
                    pending = []
                    audio, silent = trimmer.push(stream.decode_frames(codes).reshape(-1).float().cpu().numpy())
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
