"""YAML -> validated pydantic schema -> the frozen SI dataclasses of `dse.hardware`/`dse.workload`.

Every loader reports all problems of a file at once as a `ConfigError` whose `Problem`s
name the file and the key path (`compute.peak_dense_tflops.bf16`, `ops[3].m`).
"""

from __future__ import annotations

from dse.config.hardware import (
    hardware_from_dict,
    hardware_to_dict,
    list_presets,
    load_hardware,
    preset_path,
)
from dse.config.operator_workload import (
    check_workload_supported,
    load_operator_workload,
    operator_workload_from_dict,
    operator_workload_to_dict,
)

__all__ = [
    "check_workload_supported",
    "hardware_from_dict",
    "hardware_to_dict",
    "list_presets",
    "load_hardware",
    "load_operator_workload",
    "operator_workload_from_dict",
    "operator_workload_to_dict",
    "preset_path",
]
