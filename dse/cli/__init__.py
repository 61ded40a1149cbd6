"""`dse …` subcommands. Each command group lives in its own module beside this one."""

from __future__ import annotations

from dse.cli import browse as _browse  # noqa: F401  (registers commands)
from dse.cli import calibrate as _calibrate  # noqa: F401  (registers commands)
from dse.cli import economics as _economics  # noqa: F401  (registers commands)
from dse.cli import evaluate as _evaluate  # noqa: F401  (registers commands)
from dse.cli import search as _search  # noqa: F401  (registers commands)
from dse.cli import space as _space  # noqa: F401  (registers commands)
from dse.cli import validate as _validate  # noqa: F401  (registers commands)
from dse.cli import validate_end_to_end as _validate_end_to_end  # noqa: F401  (registers commands)
from dse.cli import validate_published as _validate_published  # noqa: F401  (registers commands)
from dse.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
