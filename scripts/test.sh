#!/usr/bin/env bash
# Runs every test suite: the unit, API and socket suites twice, on the embedded
# default (SQLite, in-memory layer) and on PostgreSQL + Redis, the scaled
# configuration; then the end-to-end suites, which start their own Daphne
# processes on PostgreSQL + Redis, and the browser suite, once each.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gateway}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
mkdir -p var/static test-artifacts

$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy
bash scripts/install-browser.sh

echo "== embedded: SQLite + in-memory channel layer =="
env -u DATABASE_URL -u REDIS_URL $BIN/pytest -q -m "not e2e and not browser" "$@"

echo "== scaled: PostgreSQL + Redis, unit and API suites =="
DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" $BIN/pytest -q -m "not e2e and not browser" "$@"

echo "== end to end: real Daphne processes on PostgreSQL + Redis =="
TEST_DATABASE_URL="$PG_URL" TEST_REDIS_URL="$REDIS" $BIN/pytest -q -m e2e "$@"

# Apart from the e2e run: Playwright's sync API keeps its own event loop running
# in the main thread, where the asyncio tests need to start theirs.
echo "== browser: the dashboard in headless Chromium =="
TEST_DATABASE_URL="$PG_URL" TEST_REDIS_URL="$REDIS" $BIN/pytest -q -m browser "$@"
