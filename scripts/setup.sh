#!/usr/bin/env bash
# Set-up used by the README's commands and by CI: a virtual environment in .venv with
# dse installed (editable). `--test` adds the test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [[ "${1:-}" == "--test" ]]; then extras="[test]"; fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras}"
