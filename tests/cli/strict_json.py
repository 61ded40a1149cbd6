"""Reading `--json` output as a strict JSON reader (jq, a browser) would."""

from __future__ import annotations

import json
from typing import Any


def _refuse(constant: str) -> Any:
    raise AssertionError(f"--json output holds {constant}, which is not JSON (use null)")


def loads_strict(text: str) -> Any:
    """`json.loads` that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_refuse)
