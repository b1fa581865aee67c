# ews — `make run` serves the node on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EWS    := $(BIN)/ews

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The stamp files record which extras are installed; pyproject.toml changes reinstall.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	mkdir -p var
	$(EWS) db upgrade
	$(EWS) library load
	$(EWS) serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy chem alerts ews

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -n auto -q

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.match_throughput
	$(BIN)/python -m bench.library_load

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
