"""The search: search-space expressions, design evaluation, Optuna studies, Pareto utilities.

Importing this package imports nothing heavy; `dse.search.study` is the module that
imports optuna, so workers that only evaluate designs never load it.
"""
