#!/usr/bin/env bash
# Runs every test. PostgreSQL tests use ZHOUBAO_TEST_POSTGRES_URL (default: the local server);
# without a reachable server they skip with a visible reason, except under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export ZHOUBAO_TEST_POSTGRES_URL="${ZHOUBAO_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
.venv/bin/ruff check bot storage tests bench
.venv/bin/lint-imports --no-cache
# Six workers on two cores: most tests wait on servers, subprocesses, browsers and databases, not on the CPU
# (a clean clone: 6:57 with six, 12:48 with four).
# Each worker makes its own PostgreSQL scratch database. ZHOUBAO_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -q -n "${ZHOUBAO_TEST_WORKERS:-6}" "$@"
