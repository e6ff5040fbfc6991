# Mynah: two commands on a fresh machine.
#   make run   create .venv, install, launch the studio
#   make test  install dev extras and system audio packages, start a private PulseAudio null sink, run pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip
# A machine with an NVIDIA driver gets the normal (CUDA) torch wheel; one without gets the pinned
# CPU build, which this project's machines carry on local disk.
TORCH_SPEC ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo "torch>=2.4" || echo "torch==2.13.0")
# Packages whose declared requirements would pull in conflicting or needless wheels
# (onnxruntime CPU over onnxruntime-gpu, librosa/webrtcvad for resemblyzer, fastapi/uvicorn/typer for
# pocket-tts's web server): installed without deps.
NODEPS := "faster-whisper>=1.1,<1.3" "resemblyzer>=0.1.4" "speechmos>=0.0.1" "silero-vad>=5.1" "pocket-tts==4.0.1"
NODEPS_RUNTIME := "av>=12"
SYS_PKGS := libportaudio2 pulseaudio pulseaudio-utils libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: run install dev test system-deps audio-server screenshots bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml Makefile
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e .
	$(PIP) install -q $(NODEPS_RUNTIME)
	$(PIP) install -q --no-deps $(NODEPS)
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	$(BIN)/mynah

system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

# A private PulseAudio server with a null sink; its monitor is the default input, so what a test
# plays it can record through real PortAudio devices.
audio-server: system-deps
	@if command -v pulseaudio >/dev/null 2>&1; then \
	  pactl info >/dev/null 2>&1 || pulseaudio --daemonize=yes --exit-idle-time=-1 -n \
	    --load="module-null-sink sink_name=mynah_sink" --load=module-native-protocol-unix \
	    --load=module-always-sink 2>/dev/null; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pactl info >/dev/null 2>&1 && break; sleep 0.5; done; \
	  pactl list short sinks | grep -q mynah_sink || pactl load-module module-null-sink sink_name=mynah_sink >/dev/null; \
	  pactl set-default-sink mynah_sink; pactl set-default-source mynah_sink.monitor; \
	else echo "pulseaudio not available: audio tests will be skipped"; fi

test: dev audio-server
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

screenshots: dev
	QT_QPA_PLATFORM=offscreen $(PY) -m studio.ui.screenshots docs/screenshots

bench: dev audio-server
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
