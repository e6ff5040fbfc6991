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
# resemblyzer's declared requirements (librosa, webrtcvad: a C build) are needless: Mynah only
# reads its GE2E weights file (engine/eval/similarity.py), so it is installed without deps.
# Everything else evaluation needs is in pyproject.toml: `pip install .` alone gives WER and DNSMOS.
NODEPS := "resemblyzer>=0.1.4"
SYS_PKGS := libportaudio2 pulseaudio pulseaudio-utils libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
# What Qt's xcb (X11) plugin links beyond a minimal desktop (the list is read from the plugin by
# studio/ui/platform_check.py, which also names the packages for Fedora and Arch when one is missing).
GUI_SYS_PKGS := libportaudio2 libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 \
  libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
  libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: run install dev test system-deps gui-deps audio-server screenshots bench check-pip-install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml Makefile
	$(PIP) install -q "$(TORCH_SPEC)"
	@# Older venvs carry onnxruntime-gpu; it shares the onnxruntime package folder with the CPU wheel.
	$(PIP) uninstall -y -q onnxruntime-gpu 2>/dev/null || true
	$(PIP) install -q -e .
	$(PIP) install -q --no-deps $(NODEPS)
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install gui-deps
	$(BIN)/mynah

# As root with apt: install what the window needs. Otherwise the app itself checks before Qt starts
# and names the packages to install (or uses Wayland where it can).
gui-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(GUI_SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing what Mynah's window needs:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "could not install:$$missing (Mynah will say what is missing)"; fi; \
	fi

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

# `pip install .` alone (fresh venv, torch pre-installed) gives working evaluation: minutes.
check-pip-install: dev
	MYNAH_PIP_INSTALL_CHECK=1 $(PY) -m pytest tests/test_pip_install.py -q -rs

screenshots: dev
	QT_QPA_PLATFORM=offscreen $(PY) -m studio.ui.screenshots docs/screenshots

bench: dev audio-server
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info

# ---- packaging (issue 14) ---------------------------------------------------------------------
#   make package        PyInstaller bundle dist/mynah/ (mynah + mynah-cli), its tarball and .deb
#   make package-check  proves the bundle in an empty environment (packaging/check.py) and prints
#                       the figures: sizes, launch-to-window time, build time
# The check's system packages: Xvfb + xdotool for the window, the validators, and the X libraries
# Qt's xcb plugin loads (a desktop has them; a server or container may not).
PKG_SYS_PKGS := libportaudio2 binutils xvfb xdotool desktop-file-utils appstream libxcb-cursor0 \
	libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3 \
	libwayland-client0 libwayland-cursor0 libwayland-egl1

.PHONY: package package-check package-system-deps

package-system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(PKG_SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	else echo "not root or no apt-get: make sure these are installed: $(PKG_SYS_PKGS)"; fi

$(VENV)/.package-installed: $(VENV)/.installed
	$(PIP) install -q -e ".[package]"
	touch $@

package: $(VENV)/.package-installed package-system-deps
	$(PY) packaging/build_linux.py

dist/mynah/mynah-cli:
	$(MAKE) package

package-check: dist/mynah/mynah-cli package-system-deps
	$(PY) packaging/check.py
# ---- end of packaging --------------------------------------------------------------------------
