# The project's commands. `make sim` and `make test` install what they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= /dev/ttyUSB0
CSMS_PORT ?= 9000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help deps sim csms test test-cpython test-mpy test-stubs test-micropython bench deploy \
	repl clean firmware flash erase

help:
	@echo "make sim      run the firmware on the host against the bundled central system"
	@echo "make csms     the bundled central system alone (CSMS_PORT=9000)"
	@echo "make test     run every check (32-bit builds, pytest with the memory gate, mpy-cross,"
	@echo "              ESP32 stub check, the device tests under MicroPython)"
	@echo "make test-cpython, test-mpy, test-stubs, test-micropython   one part of make test"
	@echo "make bench    run the benchmarks and the heap floors, compare them with their targets"
	@echo "make deps     install the host tools (.venv, node_modules, typings); make test does"
	@echo "make clean    remove build/ and the test caches"
	@echo "make deploy PORT=/dev/ttyUSB0   compile and copy the firmware to an ESP32"
	@echo "make repl PORT=/dev/ttyUSB0     open the board's REPL"
	@echo "make firmware [MICROPY_DIR=...] [BOARD=ESP32_GENERIC BOARD_VARIANT=OTA]"
	@echo "                                 build the ESP32 image with the firmware frozen in (ESP-IDF)"
	@echo "make flash PORT=/dev/ttyUSB0    write that image to the board, copy boot.py and config.json"
	@echo "make erase PORT=/dev/ttyUSB0    erase the board's whole flash (first install)"
	@echo "  (DRY_RUN=1 with firmware, flash or erase prints the commands only)"

# --- installs -------------------------------------------------------------------------
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

typings/.installed: requirements-stubs.txt $(VENV)/.installed
	rm -rf typings
	$(PY) -m pip install --quiet --disable-pip-version-check --no-user --target typings -r requirements-stubs.txt
	touch $@

deps: $(VENV)/.installed node_modules/.installed typings/.installed

config.json:
	cp config.example.json config.json
	@echo "created config.json from config.example.json"

# --- run ------------------------------------------------------------------------------
sim: $(VENV)/.installed config.json
	$(PY) tools/sim.py

csms: $(VENV)/.installed
	$(PY) tools/csms.py --port $(CSMS_PORT)

# --- checks ---------------------------------------------------------------------------
test: deps
	$(PY) tools/testall.py

test-cpython: deps
	$(PY) -m pytest

test-mpy: deps
	$(PY) tools/compile_mpy.py

test-stubs: deps
	$(PY) tools/stubcheck.py

test-micropython: deps
	node tools/mptest/run.mjs

bench: deps
	$(PY) tools/bench.py

# --- the board ------------------------------------------------------------------------
deploy: $(VENV)/.installed
	$(PY) tools/deploy.py --port $(PORT)

repl: $(VENV)/.installed
	$(VENV)/bin/mpremote connect $(PORT) repl

firmware: $(VENV)/.installed
	$(PY) tools/firmware_build.py $(if $(MICROPY_DIR),--micropy-dir $(MICROPY_DIR)) \
	    $(if $(BOARD),--board $(BOARD)) $(if $(BOARD_VARIANT),--board-variant $(BOARD_VARIANT)) \
	    $(if $(DRY_RUN),--dry-run)

flash: $(VENV)/.installed
	$(PY) tools/flash.py flash --port $(PORT) $(if $(DRY_RUN),--dry-run)

erase: $(VENV)/.installed
	$(PY) tools/flash.py erase --port $(PORT) $(if $(DRY_RUN),--dry-run)

clean:
	rm -rf build .pytest_cache .hypothesis
