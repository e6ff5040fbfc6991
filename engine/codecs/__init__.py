"""Neural audio codecs. `base` (the Codec protocol) is torch-free; `mimi` imports torch and is
meant for the engine worker only, so it is not imported here."""
from engine.codecs.base import Codec, CodecInputError

__all__ = ["Codec", "CodecInputError"]
