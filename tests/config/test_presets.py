"""The shipped hardware presets: every one loads, and each has the figures its sources give.

The essay's systems are pinned to the memory route the essay describes (large SRAM + DDR
versus small SRAM + HBM), so a preset edit that breaks the essay's argument fails here.
"""

from __future__ import annotations

import re

import pytest

from dse.config import list_presets, load_hardware, preset_path
from dse.hardware import PRECISIONS

GIB = 2**30
MIB = 2**20
TIB = 2**40

EXPECTED_PRESETS = {
    "nvidia-a100-80gb",
    "nvidia-h100-sxm",
    "nvidia-h200",
    "google-tpu-v4",
    "cerebras-wse-2",
    "graphcore-gc200",
    "sambanova-sn10",
    "tesla-dojo-d1",
    "intel-xeon-amx",
    "amd-mi300x",
    "intel-gaudi2",
    "cpu-less-dlpu",
}


def test_every_expected_preset_ships_and_loads() -> None:
    assert set(list_presets()) == EXPECTED_PRESETS
    for name in EXPECTED_PRESETS:
        hw = load_hardware(name)
        assert hw.name == name, "a preset's name must be its file name"
        assert hw.description
        assert set(hw.compute.peak_flop_per_s) <= set(PRECISIONS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_every_figure_line_names_a_source_or_says_assumed(name: str) -> None:
    """House rule: every preset number carries its source (or `# assumed: why`)."""
    unsourced = []
    for number, line in enumerate(preset_path(name).read_text().splitlines(), start=1):
        code = line.split("#", 1)[0]
        if re.search(r":\s*-?\d", code) and "#" not in line:
            unsourced.append(f"line {number}: {line.strip()}")
    assert unsourced == []


def test_presets_carry_no_fitted_or_derived_power_figures() -> None:
    """idle power and energy per FLOP come from the calibration layer unless a spec gives them."""
    for name in EXPECTED_PRESETS:
        power = load_hardware(name).power
        assert power.idle_w is None, name
        assert dict(power.energy_per_flop_j) == {}, name


def test_cerebras_is_40_gib_sram_plus_memoryx_ddr_and_no_hbm() -> None:
    hw = load_hardware("cerebras-wse-2")
    assert hw.hbm is None
    assert hw.sram.capacity_bytes >= 40 * GIB
    assert hw.sram.management == "scratchpad"
    assert hw.ddr is not None and hw.ddr.capacity_bytes == 4 * TIB
    assert hw.compute.compute_units == 850_000
    assert hw.technology.transistor_count == 2.6e12


def test_graphcore_is_about_900_mib_sram_plus_streaming_ddr_and_no_hbm() -> None:
    hw = load_hardware("graphcore-gc200")
    assert hw.hbm is None
    assert hw.sram.capacity_bytes == 897 * MIB
    assert hw.sram.management == "scratchpad"
    assert hw.ddr is not None and hw.ddr.capacity_bytes == 112 * GIB  # 448 GB per 4-IPU M2000
    assert hw.compute.compute_units == 1472
    assert hw.compute.peak_flop_per_s["fp16"] == 250e12
    assert not hw.supports("bf16")
    assert hw.system.chips_per_node == 4


def test_sambanova_is_over_300_mib_sram_plus_1_5_tib_ddr_with_reconfigurable_fusion() -> None:
    hw = load_hardware("sambanova-sn10")
    assert hw.hbm is None
    assert hw.sram.capacity_bytes > 300 * MIB
    assert hw.sram.management == "scratchpad"
    assert hw.ddr is not None and hw.ddr.capacity_bytes == 1.5 * TIB
    assert hw.reconfig.spatial_fusion is True
    assert hw.reconfig.reconfiguration_s > 0
    assert hw.compute.peak_flop_per_s["bf16"] == 320e12
    assert hw.system.chips_per_node == 8


def test_a100_is_small_cached_sram_plus_hbm_and_no_ddr() -> None:
    hw = load_hardware("nvidia-a100-80gb")
    assert hw.ddr is None
    assert hw.hbm is not None and hw.hbm.capacity_bytes == 80 * GIB
    assert hw.hbm.bandwidth_byte_per_s == 2.039e12
    assert hw.sram.management == "cache"
    assert 40 * MIB <= hw.sram.capacity_bytes < 100 * MIB  # 40 MiB L2 + L1/SMEM + RF
    assert hw.compute.peak_flop_per_s["tf32"] == 156e12  # the essay's TF32 figure
    assert hw.compute.peak_flop_per_s["bf16"] == 312e12
    assert not hw.supports("fp8")
    assert hw.technology.transistor_count == 54.2e9


def test_essay_peak_table_7nm_chips_have_no_more_peak_than_a100_per_transistor() -> None:
    """Essay point 4: at 7 nm, Graphcore and SambaNova do not beat A100's peak per transistor."""
    a100 = load_hardware("nvidia-a100-80gb")
    a100_per_transistor = a100.compute.peak_flop_per_s["bf16"] / a100.technology.transistor_count
    for name, precision in (("graphcore-gc200", "fp16"), ("sambanova-sn10", "bf16")):
        hw = load_hardware(name)
        assert hw.technology.process_node_nm == 7
        assert hw.technology.transistor_count is not None
        per_transistor = hw.compute.peak_flop_per_s[precision] / hw.technology.transistor_count
        assert per_transistor <= a100_per_transistor * 1.4, name


def test_gpus_and_tpu_take_the_hbm_route() -> None:
    for name in ("nvidia-h100-sxm", "nvidia-h200", "amd-mi300x", "google-tpu-v4", "intel-gaudi2"):
        hw = load_hardware(name)
        assert hw.hbm is not None and hw.ddr is None, name
        assert hw.sram.capacity_bytes < 1 * GIB, name


def test_h200_is_h100_compute_with_more_and_faster_hbm() -> None:
    h100, h200 = load_hardware("nvidia-h100-sxm"), load_hardware("nvidia-h200")
    assert h200.hbm is not None and h100.hbm is not None
    assert h200.hbm.capacity_bytes == 141 * GIB
    assert h200.hbm.bandwidth_byte_per_s == 4.8e12 > h100.hbm.bandwidth_byte_per_s
    assert h200.compute.compute_units == h100.compute.compute_units
    assert h200.technology.die_area_m2 == h100.technology.die_area_m2


def test_tpu_v4_has_128x128_mxus_and_four_chips_per_host() -> None:
    hw = load_hardware("google-tpu-v4")
    assert (hw.compute.tile_m, hw.compute.tile_n) == (128, 128)
    assert hw.compute.compute_units == 8
    assert hw.compute.peak_flop_per_s == {"bf16": 275e12, "int8": 275e12}
    assert hw.system.chips_per_node == 4
    assert hw.hbm is not None and hw.hbm.capacity_bytes == 32 * GIB


def test_xeon_amx_is_its_own_host_with_ddr5_only() -> None:
    hw = load_hardware("intel-xeon-amx")
    assert hw.hbm is None
    assert hw.ddr is not None and hw.ddr.bandwidth_byte_per_s == 307.2e9  # 8 x DDR5-4800
    assert hw.host.device_scalar_control is True
    gpu = load_hardware("nvidia-h100-sxm")
    assert hw.host.kernel_launch_s < gpu.host.kernel_launch_s / 4
    assert hw.host.sync_roundtrip_s < gpu.host.sync_roundtrip_s / 4
    assert hw.compute.peak_flop_per_s["bf16"] == pytest.approx(56 * 1024 * 1.9e9, rel=1e-3)
    assert hw.compute.peak_flop_per_s["int8"] == pytest.approx(56 * 2048 * 1.9e9, rel=1e-3)


def test_cpu_less_dlpu_runs_scalar_control_on_device_and_marks_its_design_point() -> None:
    hw = load_hardware("cpu-less-dlpu")
    assert hw.host.device_scalar_control is True
    assert hw.host.sync_roundtrip_s < load_hardware("nvidia-h100-sxm").host.sync_roundtrip_s
    text = preset_path("cpu-less-dlpu").read_text()
    assert "10.1109/TC.2020.3044245" in text
    assert text.count("assumed (design point)") >= 10


def test_only_device_scalar_control_designs_are_the_cpu_and_the_dlpu() -> None:
    with_scalar_control = {
        name for name in EXPECTED_PRESETS if load_hardware(name).host.device_scalar_control
    }
    assert with_scalar_control == {"intel-xeon-amx", "cpu-less-dlpu"}


def test_dojo_has_no_hbm_on_package_and_25_chips_per_tile() -> None:
    hw = load_hardware("tesla-dojo-d1")
    assert hw.hbm is None
    assert hw.system.chips_per_node == 25
    assert hw.compute.peak_flop_per_s["bf16"] == 362e12


def test_system_sections_match_how_the_parts_are_sold() -> None:
    chips = {name: load_hardware(name).system.chips_per_node for name in EXPECTED_PRESETS}
    assert chips["nvidia-a100-80gb"] == chips["nvidia-h100-sxm"] == 8
    assert chips["nvidia-h200"] == chips["amd-mi300x"] == chips["intel-gaudi2"] == 8
    assert chips["cerebras-wse-2"] == 1
    for name, n in chips.items():
        hw = load_hardware(name)
        if n > 1:
            assert hw.system.chip_to_chip_bandwidth_byte_per_s > 0, name
