# The project's commands. `make sim` and `make test` install what they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= /dev/ttyUSB0
CSMS_PORT ?= 9000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help sim csms test test-cpython test-mpy test-stubs test-micropython bench deploy repl clean

help:
	@echo "make sim      run the firmware on the host against the bundled central system"
	@echo "make test     run every check (pytest, mpy-cross, ESP32 stub check, MicroPython)"
	@echo "make bench    run the benchmarks and compare them with their targets"
	@echo "make deploy PORT=/dev/ttyUSB0   compile and copy the firmware to an ESP32"
	@echo "make repl PORT=/dev/ttyUSB0     open the board's REPL"

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

clean:
	rm -rf build .pytest_cache .hypothesis
