# `make run` and `make test` do all set-up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench pictures clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Stackup needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[playground]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# Without DISCORD_TOKEN, the playground (a simulated Discord server) instead of instructions.
run: $(VENV)/.installed
	$(BIN)/stackup run --playground

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/autocomplete.py
	$(BIN)/python bench/compare.py
	$(BIN)/python bench/votes.py

# The README's pictures, from the bot's own output (skipped, saying why, without Chromium).
pictures: $(VENV)/.installed
	$(BIN)/python -m bot.playground.pictures docs/pictures

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
