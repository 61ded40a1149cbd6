"""Hardware and operator-workload loading: unit conversion, round trips, error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dse.config import (
    check_workload_supported,
    hardware_from_dict,
    hardware_to_dict,
    list_presets,
    load_hardware,
    load_operator_workload,
    operator_workload_from_dict,
    operator_workload_to_dict,
)
from dse.errors import ConfigError, Problem
from dse.hardware import Hardware
from dse.workload import (
    Attention,
    Collective,
    Conv2d,
    Elementwise,
    EmbeddingLookup,
    MatMul,
    Reconfigure,
    ScalarReadback,
    Sync,
    Transfer,
)


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return {p.key_path: p.message for p in excinfo.value.problems}


# --- hardware --------------------------------------------------------------------------


def test_h100_preset_converts_every_unit_to_si() -> None:
    hw = load_hardware("nvidia-h100-sxm")
    assert hw.name == "nvidia-h100-sxm"
    assert hw.compute.peak_flop_per_s["bf16"] == 989.4e12
    assert hw.compute.peak_flop_per_s["fp32"] == 66.9e12
    assert hw.compute.clock_hz == 1980e6
    assert hw.compute.compute_units == 132
    assert (hw.compute.tile_m, hw.compute.tile_n, hw.compute.tile_k) == (128, 256, 64)
    assert hw.sram.capacity_bytes == pytest.approx(110.6 * 2**20)
    assert hw.sram.bandwidth_byte_per_s == 33.4e12
    assert hw.sram.management == "cache"
    assert hw.hbm is not None
    assert hw.hbm.capacity_bytes == 80 * 2**30
    assert hw.hbm.bandwidth_byte_per_s == 3.35e12
    assert hw.ddr is None
    assert hw.host.link_bandwidth_byte_per_s == 64e9
    assert hw.host.kernel_launch_s == 5e-6
    assert hw.host.graph_launch_per_op_s == 1e-6
    assert hw.power.tdp_w == 700
    assert hw.power.idle_w is None
    assert hw.technology.die_area_m2 == pytest.approx(814e-6)
    assert hw.technology.transistor_count == 80e9
    assert hw.system.chips == 8
    assert hw.system.chip_to_chip_bandwidth_byte_per_s == 450e9


def test_every_preset_round_trips_through_its_dict_form() -> None:
    for name in list_presets():
        hw = load_hardware(name)
        as_dict = hardware_to_dict(hw)
        again = hardware_from_dict(as_dict, source=name)
        assert again == hw, name
        assert hardware_to_dict(again) == as_dict, name
        # and the dict survives being written as YAML and read back
        assert hardware_from_dict(yaml.safe_load(yaml.safe_dump(as_dict)), name) == hw


def test_round_trip_keeps_spec_sheet_figures_exact() -> None:
    as_dict = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    assert as_dict["compute"]["peak_dense_tflops"]["fp32"] == 66.9
    assert as_dict["hbm"]["capacity_gib"] == 80
    assert as_dict["host"]["sync_roundtrip_us"] == 10


def test_load_by_path_matches_load_by_name(tmp_path: Path) -> None:
    path = tmp_path / "my-chip.yaml"
    path.write_text(yaml.safe_dump(hardware_to_dict(load_hardware("nvidia-h100-sxm"))))
    assert load_hardware(str(path)) == load_hardware("nvidia-h100-sxm")
    assert load_hardware(path) == load_hardware("nvidia-h100-sxm")


def test_variant_made_from_dict_changes_only_what_was_edited() -> None:
    data = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    data["hbm"]["capacity_gib"] = 141
    data["ddr"] = {"channels": 8, "capacity_gib": 512, "bandwidth_gbyte_s": 307.2}
    hw = hardware_from_dict(data, "variant")
    assert hw.hbm is not None and hw.hbm.capacity_bytes == 141 * 2**30
    assert hw.ddr is not None and hw.ddr.bandwidth_byte_per_s == 307.2e9
    assert hw.offchip_capacity_bytes == (141 + 512) * 2**30
    assert hw.compute == load_hardware("nvidia-h100-sxm").compute


def test_unknown_preset_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_hardware("nvidia-h900")
    (problem,) = excinfo.value.problems
    assert problem.source == "nvidia-h900"
    assert "nvidia-h100-sxm" in problem.message
    assert "cerebras-wse-2" in problem.message


def test_bad_file_reports_unknown_key_negative_size_and_missing_field_together(
    tmp_path: Path,
) -> None:
    data = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    data["sram"]["capacity_mb"] = 50  # unknown key (should be capacity_mib)
    data["hbm"]["capacity_gib"] = -80  # negative size
    del data["host"]["kernel_launch_us"]  # missing required field
    data["compute"]["peak_dense_tflops"]["fp4"] = 4000  # unknown precision
    data["compute"]["peak_dense_tflops"]["bf16"] = 0
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as excinfo:
        load_hardware(str(path))
    assert {p.source for p in excinfo.value.problems} == {str(path)}
    assert problems_of(excinfo) == {
        "sram.capacity_mb": "unknown key; did you mean 'capacity_mib'?",
        "hbm.capacity_gib": "must be > 0, got -80",
        "host.kernel_launch_us": "required",
        "compute.peak_dense_tflops.fp4": (
            "unknown key; did you mean 'fp8'? allowed: fp32, tf32, bf16, fp16, fp8, int8"
        ),
        "compute.peak_dense_tflops.bf16": "must be > 0, got 0",
    }


def test_range_and_cross_field_checks() -> None:
    data = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    data["sram"]["management"] = "victim"
    data["power"]["min_clock_fraction"] = 1.5
    data["power"]["idle_w"] = 800
    data["compute"]["compute_units"] = 0
    data["compute"]["clock_mhz"] = float("inf")
    with pytest.raises(ConfigError) as excinfo:
        hardware_from_dict(data, "h.yaml")
    found = problems_of(excinfo)
    assert found["sram.management"] == "must be one of 'scratchpad' or 'cache', got 'victim'"
    assert found["power.min_clock_fraction"] == "must be <= 1, got 1.5"
    assert found["compute.compute_units"] == "must be > 0, got 0"
    assert found["compute.clock_mhz"].startswith("must be a finite number")
    # idle_w >= tdp_w is only checked once every field is valid on its own
    assert "power.idle_w" not in found
    data = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    data["power"]["idle_w"] = 800
    with pytest.raises(ConfigError) as excinfo:
        hardware_from_dict(data, "h.yaml")
    assert problems_of(excinfo) == {"power.idle_w": "must be < power.tdp_w (700), got 800"}


def test_optional_sections_default_sensibly() -> None:
    data = hardware_to_dict(load_hardware("nvidia-h100-sxm"))
    for section in ("hbm", "ddr", "reconfig", "system"):
        del data[section]
    for key in ("tile_m", "tile_n", "tile_k", "alignment_bytes"):
        del data["compute"][key]
    hw = hardware_from_dict(data, "minimal")
    assert hw.hbm is None and hw.ddr is None
    assert hw.system.chips == 1
    assert hw.reconfig.spatial_fusion is False
    assert (hw.compute.tile_m, hw.compute.tile_n, hw.compute.tile_k) == (128, 128, 64)
    assert hw.power.min_clock_fraction == 0.3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("compute: [1, 2\n", "YAML syntax error at line 2"),
        ("- just\n- a list\n", "must be a YAML mapping (key: value), got a list"),
        ("", "must be a YAML mapping (key: value), got empty"),
        ("name: a\nname: b\n", "duplicate key 'name' (first at line 1)"),
    ],
)
def test_malformed_yaml_is_a_config_error_not_a_traceback(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_hardware(str(path))
    (problem,) = excinfo.value.problems
    assert problem.source == str(path)
    assert expected in problem.message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_hardware(str(tmp_path / "nope.yaml"))


# --- operator workloads ------------------------------------------------------------------

EVERY_OP_YAML = """
name: my-kernels
graph_captured: false
ops:
  - {op: matmul, m: 4096, n: 4096, k: 4096, dtype: bf16}
  - {op: matmul, m: 8, n: 16, k: 32, dtype: fp8, batch: 4, count: 3}
  - {op: attention, batch: 8, heads: 32, kv_heads: 8, seq_q: 2048, seq_kv: 2048,
     head_dim: 128, causal: true, dtype: bf16, pass: forward_backward}
  - {op: conv2d, batch: 64, in_channels: 256, out_channels: 256, height: 56, width: 56,
     kernel: 3, stride: 1, dtype: bf16, pass: forward}
  - {op: elementwise, bytes_read: 268435456, bytes_written: 268435456, flops: 0}
  - {op: embedding_lookup, rows: 10000000, dim: 128, lookups: 65536, dtype: fp32}
  - {op: collective, kind: all_reduce, bytes: 1073741824, participants: 8}
  - {op: transfer, direction: host_to_device, bytes: 1073741824, pinned: true}
  - {op: sync}
  - {op: scalar_readback, count: 100}
  - {op: reconfigure, label: sql-to-training}
"""


def test_every_op_kind_loads_into_its_dataclass(tmp_path: Path) -> None:
    path = tmp_path / "kernels.yaml"
    path.write_text(EVERY_OP_YAML)
    workload = load_operator_workload(path)
    assert workload.name == "my-kernels"
    assert workload.graph_captured is False
    assert workload.ops == (
        MatMul(m=4096, n=4096, k=4096, dtype="bf16"),
        MatMul(m=8, n=16, k=32, dtype="fp8", batch=4, count=3),
        Attention(
            batch=8,
            heads=32,
            kv_heads=8,
            seq_q=2048,
            seq_kv=2048,
            head_dim=128,
            causal=True,
            dtype="bf16",
            pass_="forward_backward",
        ),
        Conv2d(
            batch=64, in_channels=256, out_channels=256, height=56, width=56, kernel=3, stride=1
        ),
        Elementwise(bytes_read=268435456, bytes_written=268435456, flops=0),
        EmbeddingLookup(rows=10_000_000, dim=128, lookups=65536, dtype="fp32"),
        Collective(kind="all_reduce", bytes=1073741824, participants=8),
        Transfer(direction="host_to_device", bytes=1073741824, pinned=True),
        Sync(),
        ScalarReadback(count=100),
        Reconfigure(label="sql-to-training"),
    )
    again = operator_workload_from_dict(operator_workload_to_dict(workload), "again")
    assert again == workload


def test_graph_captured_defaults_to_true() -> None:
    workload = operator_workload_from_dict({"name": "w", "ops": [{"op": "sync"}]})
    assert workload.graph_captured is True


def test_bad_workload_reports_every_op_problem_with_its_index(tmp_path: Path) -> None:
    path = tmp_path / "bad-ops.yaml"
    path.write_text(
        """
name: bad
ops:
  - {op: matmul, m: 4096, n: 4096, k: 4096}
  - {op: matmul, m: -5, n: 4096, k: 4096, dtype: fp4}
  - {op: attention, batch: 1, heads: 32, kv_heads: 5, seq_q: 1, seq_kv: 1, head_dim: 64}
  - {op: conv2d, batch: 1, in_channels: 3, out_channels: 8, height: 8, width: 8, pass: back}
  - {op: softmax}
  - {m: 3}
  - {op: sync, label: x}
  - {op: collective, kind: all_reduce, bytes: 8}
  - 42
"""
    )
    with pytest.raises(ConfigError) as excinfo:
        load_operator_workload(path)
    assert {p.source for p in excinfo.value.problems} == {str(path)}
    found = problems_of(excinfo)
    assert found == {
        "ops[1].m": "must be > 0, got -5",
        "ops[1].dtype": (
            "must be one of 'fp32', 'tf32', 'bf16', 'fp16', 'fp8' or 'int8', got 'fp4'"
        ),
        "ops[2].kv_heads": "must divide heads (32), got 5",
        "ops[3].pass": "must be one of 'forward' or 'forward_backward', got 'back'",
        "ops[4].op": (
            "unknown op 'softmax'; one of matmul, attention, conv2d, elementwise, "
            "embedding_lookup, collective, transfer, sync, scalar_readback, reconfigure"
        ),
        "ops[5].op": (
            "required; one of matmul, attention, conv2d, elementwise, embedding_lookup, "
            "collective, transfer, sync, scalar_readback, reconfigure"
        ),
        "ops[6].label": "unknown key; allowed: count, op",
        "ops[7].participants": "required",
        "ops[8]": "must be a mapping (op: ...), got int",
    }


def test_workload_header_problems_are_reported_with_op_problems() -> None:
    with pytest.raises(ConfigError) as excinfo:
        operator_workload_from_dict(
            {"ops": [{"op": "matmul", "m": 1, "n": 1}], "graph_capture": True}, "w.yaml"
        )
    assert problems_of(excinfo) == {
        "name": "required",
        "graph_capture": "unknown key; did you mean 'graph_captured'?",
        "ops[0].k": "required",
    }
    with pytest.raises(ConfigError) as excinfo:
        operator_workload_from_dict({"name": "empty", "ops": []}, "w.yaml")
    assert problems_of(excinfo) == {"ops": "must have at least 1 entries"}


def test_dtype_the_hardware_lacks_names_the_op_and_the_precisions_it_has() -> None:
    a100_like = load_hardware("nvidia-h100-sxm")
    data = hardware_to_dict(a100_like)
    del data["compute"]["peak_dense_tflops"]["fp8"]
    del data["compute"]["peak_dense_tflops"]["int8"]
    no_fp8: Hardware = hardware_from_dict(data, "no-fp8")
    workload = operator_workload_from_dict(
        {
            "name": "mixed",
            "ops": [
                {"op": "matmul", "m": 64, "n": 64, "k": 64, "dtype": "fp8"},
                {"op": "matmul", "m": 64, "n": 64, "k": 64, "dtype": "bf16"},
                {"op": "elementwise", "bytes_read": 8, "bytes_written": 8, "dtype": "fp8"},
                {
                    "op": "elementwise",
                    "bytes_read": 8,
                    "bytes_written": 8,
                    "flops": 2,
                    "dtype": "int8",
                },
                {
                    "op": "attention",
                    "batch": 1,
                    "heads": 1,
                    "seq_q": 1,
                    "seq_kv": 1,
                    "head_dim": 64,
                    "dtype": "fp8",
                },
            ],
        }
    )
    check_workload_supported(workload, a100_like, "w.yaml")  # has every precision: fine
    with pytest.raises(ConfigError) as excinfo:
        check_workload_supported(workload, no_fp8, "w.yaml")
    have = "fp32, tf32, bf16, fp16"
    assert excinfo.value.problems == [
        Problem("w.yaml", "ops[0].dtype", f"nvidia-h100-sxm has no fp8 arithmetic; it has: {have}"),
        Problem(
            "w.yaml", "ops[3].dtype", f"nvidia-h100-sxm has no int8 arithmetic; it has: {have}"
        ),
        Problem("w.yaml", "ops[4].dtype", f"nvidia-h100-sxm has no fp8 arithmetic; it has: {have}"),
    ]
