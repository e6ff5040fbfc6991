"""Mimi (kyutai): SEANet encoder -> transformer -> downsample -> split RVQ, and back.

audio 24 kHz [B, 1, T] --encode--> codes [B, K, F] (12.5 frames/s, K <= 32)
codes [B, K, F] --decode--> audio [B, 1, F * 1920]

Whole-sequence decode is one call of the streaming decoder from a fresh state, so the two cannot
drift apart; parity with transformers' MimiModel is tested on tiny random checkpoints.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from engine.codecs.base import CodecInputError
from engine.codecs.mimi_config import MimiConfig
from engine.codecs.mimi_conv import CausalConv1d, CausalConvTranspose1d, SeanetDecoder, SeanetEncoder
from engine.codecs.mimi_quantizer import SplitResidualVQ
from engine.codecs.mimi_transformer import KVCache, MimiTransformer


DECODE_NP_CHUNK_FRAMES = 250  # 20 s at 12.5 Hz


class Mimi(nn.Module):
    def __init__(self, cfg: MimiConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = SeanetEncoder(cfg)
        self.encoder_transformer = MimiTransformer(cfg)
        self.quantizer = SplitResidualVQ(cfg)
        self.decoder_transformer = MimiTransformer(cfg)
        self.decoder = SeanetDecoder(cfg)
        self.downsample: CausalConv1d | None = None
        self.upsample: CausalConvTranspose1d | None = None
        if cfg.resamples:
            k, s = 2 * cfg.latent_stride, cfg.latent_stride
            self.downsample = CausalConv1d(cfg, cfg.hidden_size, cfg.hidden_size, k, s, bias=False,
                                           pad_mode="replicate")
            self.upsample = CausalConvTranspose1d(cfg, cfg.hidden_size, cfg.hidden_size, k, s,
                                                  groups=cfg.upsample_groups, bias=False)

    # ---- facts the studio reads ----
    @property
    def sample_rate(self) -> int:
        return self.cfg.sampling_rate

    @property
    def frame_rate(self) -> float:
        return self.cfg.frame_rate

    @property
    def num_codebooks(self) -> int:
        return self.cfg.num_quantizers

    @property
    def codebook_size(self) -> int:
        return self.cfg.codebook_size

    @property
    def frame_samples(self) -> int:
        return self.cfg.frame_samples

    @property
    def device(self) -> torch.device:
        return self.quantizer.semantic_residual_vector_quantizer.layers[0].codebook.embed_sum.device

    @property
    def dtype(self) -> torch.dtype:
        return self.quantizer.semantic_residual_vector_quantizer.layers[0].codebook.embed_sum.dtype

    def finalize(self) -> None:
        """Fill the derived buffers (RoPE, codebook centroids) once weights are in place."""
        for t in (self.encoder_transformer, self.decoder_transformer):
            if t is not None:  # None: an encoder-only Mimi (see load_mimi)
                t.reset_rope(self.device)
        self.quantizer.finalize()

    # ---- encode ----
    @torch.inference_mode()
    def encode(self, wav: Tensor, num_codebooks: int | None = None, *, sample_rate: int | None = None) -> Tensor:
        """wav: [B, channels, T] float at 24 kHz -> codes LongTensor [B, K, ceil(T / 1920)]."""
        if sample_rate is not None and sample_rate != self.sample_rate:
            raise CodecInputError(f"Mimi needs {self.sample_rate} Hz audio, got {sample_rate} Hz; "
                                  "resample it first (encode_np does this for you)")
        k = self._check_n_codebooks(num_codebooks)
        if wav.ndim != 3 or wav.shape[1] != self.cfg.audio_channels:
            raise CodecInputError(f"Mimi expects audio shaped [batch, {self.cfg.audio_channels}, samples], "
                                  f"got {tuple(wav.shape)}")
        if wav.shape[-1] == 0:
            raise CodecInputError("there is no audio to encode (0 samples)")
        if not wav.is_floating_point():
            raise CodecInputError(f"audio must be floating point samples, got {wav.dtype}")
        if not torch.isfinite(wav).all():
            raise CodecInputError("the audio contains NaN or infinite samples")
        x = wav.to(device=self.device, dtype=self.dtype)
        h = self.encoder(x)  # [B, hidden, T / hop]
        h = self.encoder_transformer(h.transpose(1, 2)).transpose(1, 2)  # [B, hidden, T / hop]
        if self.downsample is not None:
            h = self.downsample(h)  # [B, hidden, F]
        return self.quantizer.encode(h, k)  # [B, K, F]

    # ---- decode ----
    @torch.inference_mode()
    def decode(self, codes: Tensor) -> Tensor:
        """codes: [B, K, F] (first K levels) -> wav [B, channels, F * frame_samples]."""
        if self.decoder.streamable:  # one decode path: whole == one chunk of the stream
            return self.streaming_decoder(batch_size=codes.shape[0] if codes.ndim == 3 else 1).decode_frames(codes)
        self.check_codes(codes)
        x = self.quantizer.decode(codes.to(self.device))  # [B, hidden, F]
        if self.upsample is not None:
            x = self.upsample(x)  # [B, hidden, F * stride]
        x = self.decoder_transformer(x.transpose(1, 2)).transpose(1, 2)
        return self.decoder(x)  # [B, channels, F * frame_samples]

    def streaming_decoder(self, batch_size: int = 1) -> "MimiDecodeState":
        return MimiDecodeState(self, batch_size)

    # ---- numpy level (the Codec protocol) ----
    def encode_np(self, audio: np.ndarray, sr: int, n_codebooks: int | None = None) -> np.ndarray:
        """float mono [T] at any sample rate -> int64 codes [K, F]."""
        x, sr = _check_mono(audio, sr)
        if sr != self.sample_rate:
            import soxr  # only here: decoding never needs it

            x = soxr.resample(x, sr, self.sample_rate).astype(np.float32, copy=False)
        wav = torch.from_numpy(np.ascontiguousarray(x))[None, None]  # [1, 1, T]
        return self.encode(wav, n_codebooks)[0].cpu().numpy().astype(np.int64)

    def decode_np(self, codes: np.ndarray, n_codebooks: int | None = None) -> np.ndarray:
        """int codes [K, F] -> float32 mono audio at 24 kHz, from the first n_codebooks levels."""
        codes = np.asarray(codes)
        if codes.ndim != 2:
            raise CodecInputError(f"codes must be shaped [codebooks, frames], got {codes.shape}")
        if n_codebooks is not None:
            self._check_n_codebooks(n_codebooks)
            if n_codebooks > codes.shape[0]:
                raise CodecInputError(f"asked for {n_codebooks} codebooks but the codes have {codes.shape[0]}")
            codes = codes[:n_codebooks]
        if not np.issubdtype(codes.dtype, np.integer):
            raise CodecInputError(f"codes must be integers, got {codes.dtype}")
        t = torch.from_numpy(codes.astype(np.int64))[None]  # [1, K, F]
        if not self.decoder.streamable:
            return self.decode(t)[0].mean(0).float().cpu().numpy().copy()
        # long takes go through the stream in 20 s pieces: same audio, bounded activation memory
        out = np.empty(t.shape[-1] * self.frame_samples, np.float32)
        state, step = self.streaming_decoder(), DECODE_NP_CHUNK_FRAMES
        for i in range(0, t.shape[-1], step):
            wav = state.decode_frames(t[..., i: i + step])  # [1, channels, n * frame_samples]
            out[i * self.frame_samples: i * self.frame_samples + wav.shape[-1]] = wav[0].mean(0).float().cpu().numpy()
        return out

    # ---- checks ----
    def _check_n_codebooks(self, k: int | None) -> int:
        if k is None:
            return self.num_codebooks
        if not 1 <= int(k) <= self.num_codebooks:
            raise CodecInputError(f"number of codebooks must be between 1 and {self.num_codebooks}, got {k}")
        return int(k)

    def check_codes(self, codes: Tensor, batch_size: int | None = None) -> None:
        if codes.ndim != 3:
            raise CodecInputError(f"codes must be shaped [batch, codebooks, frames], got {tuple(codes.shape)}")
        if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
            raise CodecInputError(f"codes must be integers, got {codes.dtype}")
        if batch_size is not None and codes.shape[0] != batch_size:
            raise CodecInputError(f"this decoder streams a batch of {batch_size}, got {codes.shape[0]}")
        self._check_n_codebooks(codes.shape[1])
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise CodecInputError(f"codes must lie in [0, {self.codebook_size - 1}], "
                                  f"got values from {int(codes.min())} to {int(codes.max())}")


class MimiDecodeState:
    """Streaming decoder: feed code frames in chunks of any size, get exactly the audio a single
    whole-sequence decode would give (within float rounding).

    Holds the upsampler's overlap, the decoder transformer's KV cache (last window-1 steps) and
    each causal conv's left context. Not thread-safe; one per stream.
    """

    def __init__(self, model: Mimi, batch_size: int = 1):
        self.model = model
        self.batch_size = batch_size
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frames start a new utterance."""
        self._upsample_tail: Tensor | None = None
        self._kv = KVCache.empty(self.model.cfg.num_hidden_layers)
        self._conv: list[Tensor | None] = [None] * self.model.decoder.n_states()
        self.frames_decoded = 0

    @torch.inference_mode()
    def decode_frames(self, codes: Tensor) -> Tensor:
        """codes: [B, K, n] -> wav [B, channels, n * frame_samples]. The result is a new tensor."""
        m = self.model
        if not m.decoder.streamable:
            raise NotImplementedError("streaming decode needs a causal Mimi with trim_right_ratio == 1.0")
        m.check_codes(codes, self.batch_size)
        n = codes.shape[-1]
        if n == 0:
            return torch.zeros(codes.shape[0], m.cfg.audio_channels, 0, device=m.device, dtype=m.dtype)
        x = m.quantizer.decode(codes.to(m.device))  # [B, hidden, n]
        if m.upsample is not None:
            x, self._upsample_tail = m.upsample.stream(x, self._upsample_tail)  # [B, hidden, n * stride]
        x = m.decoder_transformer(x.transpose(1, 2), self._kv).transpose(1, 2)  # [B, hidden, n * stride]
        wav = m.decoder.stream(x, self._conv)  # [B, channels, n * frame_samples]
        self.frames_decoded += n
        return wav


def _check_mono(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    if isinstance(sr, (float, np.floating)) and float(sr).is_integer():
        sr = int(sr)
    if not isinstance(sr, (int, np.integer)) or isinstance(sr, bool) or sr <= 0:
        raise CodecInputError(f"sample rate must be a positive whole number of Hz, got {sr!r}")
    x = np.asarray(audio)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise CodecInputError(f"expected mono audio [samples], got shape {x.shape}; mix it down first")
    if x.size == 0:
        raise CodecInputError("there is no audio to encode (0 samples)")
    if not np.issubdtype(x.dtype, np.floating):
        raise CodecInputError(f"audio must be float samples in [-1, 1], got {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise CodecInputError("the audio contains NaN or infinite samples")
    return x, int(sr)
