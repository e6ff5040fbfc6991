"""The device dies while the writer is behind: the blocks still queued are written, and the user
reads the device-loss sentence (not an "internal error")."""
import time

import pytest

from engine.audio.io import read_audio
from studio.core.recorder import Recorder
from tests.studio.test_recorder_support import wait_for

SR = 48000


class _SlowDiskRecorder(Recorder):
    """Each block takes 20 ms to write, so blocks pile up in the queue (a busy disk)."""

    def _consume(self, block):
        time.sleep(0.02)
        super()._consume(block)


def test_blocks_queued_when_the_device_dies_are_kept(pulse_sink, tmp_path):
    rec = _SlowDiskRecorder(tmp_path, samplerate=SR, name="behind")
    rec.start()
    assert wait_for(lambda: rec._q.qsize() > 5, 10), "the writer fell behind"
    rec._stream.abort()  # the device disappears with blocks still queued
    assert wait_for(lambda: rec.error is not None and not rec.is_recording, 10)
    assert rec.error.startswith("The microphone stopped working"), rec.error
    path = rec.stop()
    assert rec.frames_written == rec.frames_captured, "every captured block reached the file"
    assert read_audio(path).info.frames == rec.frames_written
