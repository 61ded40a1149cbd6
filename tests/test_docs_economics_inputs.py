"""docs/economics.md quotes the model's inputs in prose, each beside its source; every one
of them must be the value dse/data/economics.yaml holds (or, for the derived ones, what
`default_economics_parameters` makes of it; for the two die examples, the presets), so
editing the YAML without the doc fails here.

Each check formats the YAML value the way the doc writes it and looks for the whole phrase
(name and number together) in the doc with its line breaks folded, so a changed figure,
a changed label or a figure moved to another node all fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dse.core.economics import default_economics_parameters

ROOT = Path(__file__).resolve().parent.parent


def _yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (ROOT / "dse/data/economics.yaml").read_text(encoding="utf-8"))
    return loaded


def _doc() -> str:
    return " ".join((ROOT / "docs/economics.md").read_text(encoding="utf-8").split())


def _node(data: dict[str, Any], name: str) -> dict[str, Any]:
    (node,) = [n for n in data["nodes"] if n["name"] == name]
    return node


def _g(value: float) -> str:
    """A number as the doc writes a plain figure: 0.027, 3, 1.58."""
    return f"{value:g}"


def _usd(value: float) -> str:
    return f"${value:,.0f}"


def _musd(value: float, digits: int = 1) -> str:
    return f"${value / 1e6:.{digits}f}M"


def _phrases() -> list[str]:
    data = _yaml()
    params = default_economics_parameters()
    n3, n5, n7, n10, n16 = (_node(data, name) for name in ("3nm", "5nm", "7nm", "10nm", "16/12nm"))
    sram = {row["node"]: row for row in data["sram"]["macro_vs_bitcell"]}
    mib = 2**20 / 1e6  # the doc quotes N3E/N3B in Mib/mm² as published; the YAML holds Mb
    packaging = data["packaging"]
    interposer_usd_per_mm2 = packaging["cowos_reference_usd"] / (
        packaging["cowos_reference_die_area_mm2"]
        + packaging["cowos_reference_hbm_stacks"] * packaging["hbm_footprint_mm2"])
    essay = data["essay"]
    tco = data["tco"]
    a100 = data["purchase_reference"]["a100-essay"]
    assert n10["defect_density_per_cm2"] == n16["defect_density_per_cm2"] == \
        n7["defect_density_per_cm2"], "the doc says 10 and 16/12 nm reuse the N7 density"
    from dse.config import load_hardware

    mi300x = load_hardware("amd-mi300x").technology
    wse2 = load_hardware("cerebras-wse-2").technology
    mi300x_mm2 = mi300x.die_area_m2 * 1e6 if mi300x.die_area_m2 else 0.0
    return [
        # die area per die of a multi-die package, and the wafer-scale die (presets)
        f"(MI300X: {mi300x_mm2:,.0f} mm² in {mi300x.dies_per_package} chiplets → "
        f"{mi300x_mm2 / mi300x.dies_per_package:.0f} mm² each)",
        f"Cerebras' {(wse2.die_area_m2 or 0.0) * 1e6:,.0f} mm² square",
        # SRAM bit cells and array efficiency
        f"N7 {_g(n7['sram_bitcell_area_um2'])} µm² [C033]",
        f"N5 {_g(n5['sram_bitcell_area_um2'])} [C034]",
        f"N3E {_g(n3['sram_bitcell_area_um2'])} [C035]",
        f"10 nm {_g(n10['sram_bitcell_area_um2'])} and "
        f"16/12 nm {_g(n16['sram_bitcell_area_um2'])} µm²",
        f"The array efficiency, {params.sram_array_efficiency:.2f},",
        f"N3E {sram['N3E']['macro_density_mbit_per_mm2'] / mib:.1f} Mib/mm² vs "
        f"1/{_g(sram['N3E']['bitcell_area_um2'])} µm²",
        f"N3B {sram['N3B']['macro_density_mbit_per_mm2'] / mib:.2f} Mib/mm² vs "
        f"1/{_g(sram['N3B']['bitcell_area_um2'])} µm²",
        f"N2 {_g(sram['N2']['macro_density_mbit_per_mm2'])} Mb/mm² vs "
        f"1/{_g(sram['N2']['bitcell_area_um2'])} µm²",
        # I/O
        f"{_g(data['io']['hbm_phy_area_mm2_per_stack'])} mm² of PHY + controller per HBM stack, "
        f"{_g(data['io']['ddr_phy_area_mm2_per_channel'])} mm² per DDR channel, "
        f"{_g(data['io']['serdes_area_mm2_per_gbyte_s'])} mm² per GB/s",
        # wafer, yield, redundancy
        f"({_g(data['wafer']['diameter_mm'])} mm minus a "
        f"{_g(data['wafer']['edge_exclusion_mm'])} mm edge exclusion, E)",
        f"α = {_g(data['yield_model']['cluster_alpha'])}.",
        f"N7 {_g(n7['defect_density_per_cm2'])}/cm² [C029]",
        f"N5 {_g(n5['defect_density_per_cm2'])}/cm²",
        f"3 nm {_g(n3['defect_density_per_cm2'])}/cm²",
        f"reticle limit ({data['wafer']['reticle_limit_mm2']:,} mm², C)",
        f"they get {data['yield_model']['beyond_reticle_spare_unit_fraction']:.0%} spare units",
        # cost per package
        f"16/12 nm {_usd(n16['wafer_price_usd'])} [C001], 10 nm {_usd(n10['wafer_price_usd'])} "
        f"[C002], N7 {_usd(n7['wafer_price_usd'])} [C003], N5 {_usd(n5['wafer_price_usd'])} "
        f"[C004]; 3 nm {_usd(n3['wafer_price_usd'])}",
        f"HBM ${_g(data['memory']['hbm_price_usd_per_gbyte'])}/GB",
        f"DDR ${_g(data['memory']['ddr_price_usd_per_gbyte'])}/GB",
        f"assembly and test {_usd(packaging['assembly_and_test_usd'])} per package",
        f"${interposer_usd_per_mm2:.2f} per mm²",
        f"dies + {_g(packaging['hbm_footprint_mm2'])} mm² per HBM stack",
        f"({_g(packaging['cowos_reference_die_area_mm2'])} mm² + "
        f"{_g(packaging['cowos_reference_hbm_stacks'])} stacks) costs "
        f"{_usd(packaging['cowos_reference_usd'])}",
        f"16 nm {_musd(n16['design_cost_ibs_usd'])} [C022], 10 nm "
        f"{_musd(n10['design_cost_ibs_usd'])} [C021], 7 nm {_musd(n7['design_cost_ibs_usd'])} "
        f"[C020], 5 nm {_musd(n5['design_cost_ibs_usd'])} [C019]; 3 nm "
        f"{_musd(n3['design_cost_ibs_usd'], 0)} extrapolated",
        f"{essay['normalised_design_cost_usd'] / 1e6:.0f}/{n7['design_cost_ibs_usd'] / 1e6:.1f} "
        f"= {params.nre_scale:.3f}",
        f"so that {essay['normalised_at_node_nm']} nm is the essay's "
        f"{_musd(essay['normalised_design_cost_usd'], 0)}",
        f"(default {tco['default_volume']:,} units, E)",
        # TCO and break-even
        f"Defaults: {_g(tco['default_years'])} years (E), "
        f"${tco['default_power_price_usd_per_kwh']:.2f}/kWh (C, EIA US industrial average "
        f"2023), PUE {_g(tco['default_pue'])} (C, Uptime Institute 2023 survey), power "
        f"fraction {tco['default_average_power_fraction']:.1f}",
        f"{_musd(essay['normalised_design_cost_usd'], 0)} / "
        f"${essay['a100_card_price_usd'] / 1e3:.0f}k = "
        f"{essay['normalised_design_cost_usd'] / essay['a100_card_price_usd']:,.0f}",
        f"against an A100 at ${a100['price_usd'] / 1e3:.0f}k "
        f"({_g(a100['peak_16bit_tflops'])} TFLOP/s, {_g(a100['tdp_w'])} W)",
    ]


@pytest.mark.parametrize("index", range(len(_phrases())))
def test_docs_economics_quotes_the_yaml_input(index: int) -> None:
    phrase = _phrases()[index]
    assert phrase in _doc(), (
        f"docs/economics.md should say {phrase!r} (from dse/data/economics.yaml); "
        "update the doc or the YAML so they agree")
