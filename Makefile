# ews — `make run` serves the node on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EWS    := $(BIN)/ews

HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench clean assets system

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

# `make run PORT=8080 HOST=0.0.0.0`; EWS_BASE_URL follows them unless it is set. A busy port
# is one line, before anything else runs.
# The node's database is this checkout's var/ews.db unless EWS_DATABASE_URL or EWS_DATA_DIR says otherwise.
run: export EWS_DATA_DIR := $(or $(EWS_DATA_DIR),$(CURDIR)/var)
run: $(VENV)/.installed-run assets
	@$(EWS) serve --host $(HOST) --port $(PORT) --check-port
	$(EWS) db upgrade
	$(EWS) library load
	$(EWS) serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy chem alerts ews

# What the suite needs from Debian, installed here when missing (as root) so that `make test` and
# .ci/run never diverge: Chromium and its driver for the pages; Pango, HarfBuzz and DejaVu for the
# dossier's PDF (WeasyPrint).
SYSTEM_PACKAGES := chromium chromium-driver libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
system:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
	    || ! ldconfig -p | grep -q libpangoft2-1.0 || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages the tests need: $(SYSTEM_PACKAGES)" >&2; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "make test needs Debian packages: sudo apt-get install -y $(SYSTEM_PACKAGES)" >&2; \
	    exit 1; \
	  fi; \
	fi

test: $(VENV)/.installed-test assets system lint
	$(BIN)/python -m pytest -n auto -q

bench: $(VENV)/.installed-test assets
	$(BIN)/python -m bench.match_throughput
	$(BIN)/python -m bench.library_load

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache $(VENDOR) assets/node_modules
