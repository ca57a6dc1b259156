# The two commands a new user types: `make run` and `make test`. Each makes .venv by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-loaded check lint format typecheck pytest clean system-deps browser gpu test-models prompt-snapshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# bubblewrap confines kernels (DESIGN §6); installed from Debian when missing and we are root.
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) || \
	  echo "note: bubblewrap not installed; kernels will refuse to run unconfined (see README)"; }

# Headless Chromium renders `claw report` pages in the report's browser test; installed from Debian when
# missing and we are root (the test skips, saying why, where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null) || \
	  echo "note: chromium not installed; the report's browser test will skip"; }

# Ray for `claw eval --ray` and its tests on a local loopback cluster (a ~80 MB wheel; about a minute
# with a warm pip cache). The Ray tests skip, saying why, where it is absent.
RAY_STAMP := $(VENV)/.ray-installed
$(RAY_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	@touch $(RAY_STAMP)

.PHONY: ray
ray: $(RAY_STAMP)

run: $(STAMP) system-deps
	$(BIN)/claw eval

lint: $(STAMP)
	$(BIN)/ruff format --check claw servers bench synthscene tests examples
	$(BIN)/ruff check claw servers bench synthscene tests examples

typecheck: $(STAMP)
	$(BIN)/mypy claw servers bench synthscene

pytest: $(STAMP) system-deps browser ray
	$(BIN)/pytest -q

test: lint typecheck pytest

# The whole suite (as `make pytest` runs it) with every core kept busy by a spinning process that the
# harness (tests/loaded.py) starts and stops: tests must not depend on how fast the machine is. TESTS
# picks a subset or adds pytest options, e.g. `make test-loaded TESTS=tests/faults`.
TESTS ?=
test-loaded: $(STAMP) system-deps browser ray
	$(BIN)/python -m tests.loaded $(BIN)/pytest -q $(TESTS)

# Formatting diff, lint and types without running the tests.
check: $(STAMP)
	$(BIN)/ruff format --check claw servers bench synthscene tests examples
	$(BIN)/ruff check claw servers bench synthscene tests examples
	$(BIN)/mypy claw servers bench synthscene

format: $(STAMP)
	$(BIN)/ruff format claw servers bench synthscene tests examples

# The perception model backends (sam3, da3). Without a GPU this installs PyTorch's local CPU build;
# `torch==2.13.0` is pinned because an unpinned torch pulls a multi-GB CUDA build. depth-anything-3 goes
# in without its own pins, which would downgrade numpy.
gpu: $(STAMP)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,gpu]'
	$(BIN)/python -m pip install --quiet --no-deps depth-anything-3

# Rewrite tests/agent/snapshots/ after a deliberate prompt change (the snapshot test fails on any drift).
prompt-snapshots: $(STAMP)
	$(BIN)/python -m tests.agent.prompt_snapshots --write

# The real model code paths on tiny random checkpoints (they skip in `make test` when torch is absent).
test-models: gpu
	$(BIN)/pytest -q tests/perception/test_perception_models.py \
	  tests/perception/test_perception_da3_batching.py tests/e2e/test_paper_e2e.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
