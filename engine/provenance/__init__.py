"""Provenance: the inaudible watermark on every generated take, and content credentials on exports.

`embed`/`detect` run Resemble AI's Perth implicit watermark net (our own torch code, the package's
trained weights); importing this package does not import torch.
"""
from engine.provenance.watermark import (DETECT_THRESHOLD, MESSAGE, Detection, WatermarkStamp,
                                         WatermarkUnavailable, detect, detect_spans, embed, stamp,
                                         warning_for)

__all__ = ["DETECT_THRESHOLD", "MESSAGE", "Detection", "WatermarkStamp", "WatermarkUnavailable",
           "detect", "detect_spans", "embed", "stamp", "warning_for"]
