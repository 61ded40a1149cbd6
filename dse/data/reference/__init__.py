"""Public reference data (CSV) with its sources; see README.md beside this file.

A package only so the CSV files ship as package data. Read them with
`importlib.resources.files("dse.data.reference") / "hardware.csv"`.
"""
