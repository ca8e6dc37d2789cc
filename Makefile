# zhoubao: `make run` sets everything up and starts the bot on the console with the example team;
# `make test` sets everything up and runs every test (SQLite and PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run demo test lint bench lock clean

# Installs exactly the versions in requirements.lock (the ones the tests ran with), then zhoubao itself.
$(BIN)/zhoubao: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(BIN)/zhoubao

run: setup
	@test -f team.yaml || $(BIN)/zhoubao init
	$(BIN)/zhoubao run

demo: setup
	$(BIN)/zhoubao demo

# axe-core (npm, pinned in tests/web/package-lock.json) for the dashboard's accessibility test.
test: setup
	@if [ ! -f tests/web/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
		npm ci --prefix tests/web --no-audit --no-fund --ignore-scripts; fi
	scripts/test.sh

lint: setup
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench.compile_history
	$(BIN)/python -m bench.startup

# After changing dependencies in pyproject.toml: resolve them again (pip-tools, through pip and its
# configuration), then `make setup` installs the new lock.
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --extra dev --strip-extras --no-emit-find-links --no-emit-index-url \
		--output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) data .pytest_cache
