# The two commands of the README: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
GATEWAY_INSTALLED := tests/official_gateway/node_modules/.package-lock.json
# The congratulations picture has Chinese labels: the tests check they are drawn.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run test bench lint

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

$(GATEWAY_INSTALLED): tests/official_gateway/package.json tests/official_gateway/package-lock.json
	bash tests/official_gateway/install.sh

$(CJK_FONT):
	bash tests/install_fonts.sh

run: $(INSTALLED)
	$(BIN)/python -m bot

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(INSTALLED) $(GATEWAY_INSTALLED) $(CJK_FONT) lint
	$(BIN)/pytest

bench: $(INSTALLED)
	$(BIN)/python -m tests.bench
