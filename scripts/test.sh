#!/usr/bin/env bash
# Set up a virtual environment and run the whole test suite (the README's test command):
# ruff, the docstring examples in the package, then the tests (real-data tests read
# ../shared/data or $TRUCELINE_DATA and skip, saying why, when it is absent), on two
# processes by default ($TRUCELINE_TEST_WORKERS; each test file stays on one, so the
# real lakes a file builds are built once).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -q -p no:cacheprovider --doctest-modules src/truceline
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${TRUCELINE_TEST_WORKERS:-2}" \
  --dist loadfile tests "$@"
