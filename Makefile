# Two commands on a fresh Debian machine with Python 3.11:
#   make run    venv + install + render the prod profile into out/prod/
#   make test   install the test tools (apt packages too) and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test tools render check docs bench bytecode clean

run: $(VENV)/.installed bytecode
	$(BIN)/render --profile prod

test: $(VENV)/.installed tools bytecode
	$(BIN)/python -m pytest

tools:
	./scripts/install-tools.sh

render: $(VENV)/.installed
	$(BIN)/render --all

check: $(VENV)/.installed
	$(BIN)/render --all --check --strict-tools

docs: $(VENV)/.installed
	$(BIN)/python -m vitalyst_render.docs

bench: $(VENV)/.installed tools bytecode
	$(BIN)/python benchmarks/bench.py

# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set every
# `render` would compile the package again (a fifth of a second); a wheel ships compiled.
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q vitalyst_render

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && ./scripts/install-tools.sh python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
