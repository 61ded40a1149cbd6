#!/usr/bin/env bash
# The headless browser the page tests drive: Debian's chromium (system package; Playwright's
# own browser downloads are not used) and the Python Playwright client in .venv.
# Called by .ci/run; safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  as_root=()
  if [[ "$(id -u)" != "0" ]]; then as_root=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium
fi
/usr/bin/chromium --version

if ! .venv/bin/python -c "import playwright" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet "playwright>=1.40"
fi
