# The two set-up commands of the README: `make run` (chat on the sample corpus) and `make test`.
# Each creates .venv on first use. torch is installed first, pinned, from PyTorch's CPU-only
# wheel index: from PyPI, Linux gets the multi-GB CUDA build. Pip's other sources (a local
# index or wheel folder in pip.conf) still apply; `make TORCH_INDEX=` installs torch from the
# default index instead, `make TORCH_INDEX=https://download.pytorch.org/whl/cu126` a CUDA build.
PYTHON ?= python3
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
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
	$(PIP) install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
