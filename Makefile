# The two set-up commands of the README: `make run` (chat on the sample corpus) and `make test`.
# Each creates .venv on first use. torch is installed first, pinned to the CPU wheel: an
# unpinned torch would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint index clean-index

run: $(VENV)/.installed
	$(PY) app.py

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

index: $(VENV)/.installed
	$(VENV)/bin/qa index

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
