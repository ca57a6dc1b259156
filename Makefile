# The two commands a new user types: `make run` and `make test`. Each makes .venv by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck pytest clean system-deps

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

run: $(STAMP) system-deps
	$(BIN)/claw eval

lint: $(STAMP)
	$(BIN)/ruff check claw servers bench tests

typecheck: $(STAMP)
	$(BIN)/mypy claw

pytest: $(STAMP) system-deps
	$(BIN)/pytest -q

test: lint typecheck pytest

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
