"""Device listing, persisted identity, the test tone and the input-only level monitor."""
from __future__ import annotations

import pytest

from studio.core.devices import (DeviceError, default_input, default_output, find_device, list_devices,
                                 play_test_tone, resolve_device)
from studio.core.recorder_levels import InputMonitor
from tests.studio.test_recorder_support import wait_for


def test_devices_listed_with_defaults_marked(pulse_sink):
    devs = list_devices()
    assert devs, "PortAudio sees the PulseAudio devices"
    inputs, outputs = list_devices("input"), list_devices("output")
    assert all(d.max_input_channels > 0 for d in inputs)
    assert all(d.max_output_channels > 0 for d in outputs)
    assert sum(d.is_default_input for d in devs) == 1 and sum(d.is_default_output for d in devs) == 1
    d_in = default_input()
    assert d_in is not None and d_in.is_default_input and "(default)" in d_in.label
    assert default_output() is not None


def test_persisted_key_resolves_back(pulse_sink):
    d = default_input()
    assert find_device(d.key, "input") == d
    assert resolve_device(d.key, "input") == d.index
    assert resolve_device(d, "input") == d.index
    assert find_device(d.name, "input") == d, "a bare name (older settings) still resolves"
    assert resolve_device(None, "input") is None
    assert find_device("ALSA::Unplugged USB Mic") is None
    with pytest.raises(DeviceError, match="'Unplugged USB Mic' is not connected"):
        resolve_device("ALSA::Unplugged USB Mic", "input")


def test_test_tone_is_heard_by_the_input_monitor(pulse_sink):
    with InputMonitor(samplerate=48000) as mon:
        assert wait_for(lambda: mon.level() is not None and mon.meter.frames > 0, 10), "the input delivers"
        wait_for(lambda: False, 0.5)
        assert mon.noise_floor_dbfs() < -90, "silence reads as a very low noise floor"
        player = play_test_tone(seconds=1.0, level_dbfs=-12.0)
        wait_for(lambda: False, 0.6)
        r = mon.level()
        assert r.peak_dbfs == pytest.approx(-12.0, abs=1.0)
        assert r.rms_dbfs == pytest.approx(-15.0, abs=1.5) and not r.clipped
        assert player.wait(5) and player.error is None
        assert mon.error is None and mon.is_running
    assert not mon.is_running


def test_monitor_on_missing_device_fails_clearly():
    with pytest.raises(DeviceError, match="not available"):
        InputMonitor(device=555).start()
