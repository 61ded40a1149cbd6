"""The only package that imports ray: the search driver, its workers, resume.

`run_search(space, SearchOptions(out=...))` runs a search on an embedded Ray (default)
or a cluster (`address`), writing the results folder described in `dse.results.schema`.
"""

from dse.runtime.driver import SearchOptions, SearchProgress, SearchSummary, run_search

__all__ = ["SearchOptions", "SearchProgress", "SearchSummary", "run_search"]
