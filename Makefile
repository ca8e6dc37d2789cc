# zhoubao: `make run` sets everything up and starts the bot on the console with the example team;
# `make test` sets everything up and runs every test (SQLite and PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run demo test lint bench clean

$(BIN)/zhoubao: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/zhoubao

run: setup
	@test -f team.yaml || $(BIN)/zhoubao init
	$(BIN)/zhoubao run

demo: setup
	$(BIN)/zhoubao demo

test: setup
	scripts/test.sh

lint: setup
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench.compile_history
	$(BIN)/python -m bench.startup

clean:
	rm -rf $(VENV) data .pytest_cache
