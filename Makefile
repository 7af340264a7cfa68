# The two commands of the README: `make run` and `make test`. Both set up what they need.
# PYTHON picks the interpreter (`make test PYTHON=python3.13`). Each Python has a virtualenv
# of its own: .venv for the default python3, .venv-3.13 for PYTHON=python3.13 and so on
# (.ci/run tests on 3.11 and on 3.13 this way).
PYTHON ?= python3
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ifeq ($(PYTHON_VERSION),)
$(error PYTHON=$(PYTHON) does not run: name a Python 3.11 to 3.13)
endif
VENV ?= $(if $(filter default file,$(origin PYTHON)),.venv,.venv-$(PYTHON_VERSION))
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
GATEWAY_INSTALLED := tests/official_gateway/node_modules/.package-lock.json
# The congratulations picture has Chinese labels: the tests check they are drawn.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
# The web console's tests drive Debian's chromium with its chromedriver (tests/browser.py).
BROWSER := /usr/bin/chromedriver

.PHONY: run test bench lint

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	echo '*' > $(VENV)/.gitignore  # git, ruff and the like skip it (3.13's venv writes this too)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

$(GATEWAY_INSTALLED): tests/official_gateway/package.json tests/official_gateway/package-lock.json
	bash tests/official_gateway/install.sh

$(CJK_FONT):
	bash tests/install_fonts.sh

$(BROWSER):
	bash tests/install_browser.sh

run: $(INSTALLED)
	$(BIN)/python -m bot

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(INSTALLED) $(GATEWAY_INSTALLED) $(CJK_FONT) $(BROWSER) lint
	$(BIN)/pytest

# Figures through the official gateway and the simulator, written to docs/benchmarks.md and
# .png; first waits (up to 10 minutes) for the machine to be quiet, as the figures need.
bench: $(INSTALLED) $(GATEWAY_INSTALLED)
	$(BIN)/python -m tests.bench --wait-quiet 600

# Every property test 10,000 times (the "fuzz" Hypothesis profile, tests/conftest.py; the suite
# runs 200 each). pytest's 120 s limit per test is raised: 10,000 cases take minutes.
.PHONY: fuzz
fuzz: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -p no:cacheprovider --timeout=1800 \
		tests/test_fuzz_chat.py tests/test_fuzz_files.py tests/test_untrusted_text.py
