"""Engine-test hooks: report what the cached reference environments cost (CI pays it once)."""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.engine.qwen3_ref import env

    if env.env_dir().exists():
        took = env.creation_seconds()
        terminalreporter.write_line(
            f"qwen-tts reference environment: {env.env_dir()} "
            f"(creating it took {took if took is not None else '?'} s, once; reused since)")
