"""Results folders: the Parquet layout (format_version 1), atomic writer, manifest, readers.

See `dse.results.schema` for the layout, a contract with `dse pareto/show/compare/browse`.
"""

from dse.results.layout import FORMAT_VERSION
from dse.results.reader import (
    read_evaluations,
    read_metadata,
    read_reference_evaluations,
    read_references,
    read_trials,
)
from dse.results.verify import CommittedParts, committed_parts
from dse.results.writer import FolderExists, FolderInUse, ResultsFolder

__all__ = [
    "FORMAT_VERSION",
    "CommittedParts",
    "FolderExists",
    "FolderInUse",
    "ResultsFolder",
    "committed_parts",
    "read_evaluations",
    "read_metadata",
    "read_reference_evaluations",
    "read_references",
    "read_trials",
]
