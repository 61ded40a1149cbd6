"""Hardware presets: one YAML file per accelerator (data only, every figure sourced).

A package only so the YAML files ship as package data; load them with
`dse.config.load_hardware("<name>")`.
"""
