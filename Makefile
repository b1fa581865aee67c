# ews — `make run` serves the node on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EWS    := $(BIN)/ews

.PHONY: run test lint bench clean assets

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

# JavaScript and map data the pages serve themselves, from pinned npm packages (assets/package-lock.json).
VENDOR := ews/static/vendor
assets: $(VENDOR)/.built

$(VENDOR)/.built: assets/package.json assets/package-lock.json assets/build.sh assets/americas.mjs
	@command -v npm >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "make assets needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; fi; }
	sh assets/build.sh $(VENDOR)
	touch $@

run: $(VENV)/.installed-run assets
	mkdir -p var
	$(EWS) db upgrade
	$(EWS) library load
	$(EWS) serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy chem alerts ews

test: $(VENV)/.installed-test assets lint
	$(BIN)/python -m pytest -n auto -q

bench: $(VENV)/.installed-test assets
	$(BIN)/python -m bench.match_throughput
	$(BIN)/python -m bench.library_load

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache $(VENDOR) assets/node_modules
