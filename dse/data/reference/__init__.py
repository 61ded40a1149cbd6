"""Public reference data (CSV) with its sources; see README.md beside this file.

A package so the CSV files ship as package data; `reference_text(name)` reads one.
"""

from __future__ import annotations

from importlib import resources


def reference_text(name: str) -> str:
    """The text of one reference file, e.g. `reference_text("h100_kernels.csv")`."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
