"""Mimi neural audio codec (24 kHz, 12.5 frames/s, 32 RVQ levels): the public face.

    mimi = load_mimi_dir("~/models/kyutai-mimi")        # or load_mimi(state_dict, config, "codec_model.")
    codes = mimi.encode(wav)                              # [B, 1, T] -> [B, 32, F]
    wav = mimi.decode(codes[:, :8])                       # first 8 levels only
    stream = mimi.streaming_decoder()
    for chunk in frames: play(stream.decode_frames(chunk))  # [B, K, n] -> [B, 1, n * 1920]

Imports torch: only the engine worker imports this module.
"""
from engine.codecs.base import CodecInputError
from engine.codecs.mimi_config import MimiConfig
from engine.codecs.mimi_load import MimiLoadError, load_mimi, load_mimi_dir
from engine.codecs.mimi_model import Mimi, MimiDecodeState

__all__ = ["CodecInputError", "Mimi", "MimiConfig", "MimiDecodeState", "MimiLoadError", "load_mimi",
           "load_mimi_dir"]
