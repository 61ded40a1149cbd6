"""Chip economics: the essay's arithmetic, yield, die cost, die-area estimate, TCO."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from dse.config import load_hardware
from dse.core.economics import (
    EconomicsInputs,
    break_even_volume,
    chip_economics,
    chip_economics_batch,
    default_economics_parameters,
    design_economics_report,
    die_area_checks,
    dies_per_wafer,
    essay_arithmetic,
    estimate_die_area_m2,
    lifetime_energy_cost_usd,
    load_economics_parameters,
    node_class_index,
    parse_economics_parameters,
    yield_fraction,
)
from dse.errors import ConfigError
from dse.units import CM2, GIB, MM2, TERA

PARAMS = default_economics_parameters()
ECONOMICS_YAML = Path(__file__).parents[2] / "dse" / "data" / "economics.yaml"


def _document() -> dict:
    return yaml.safe_load(ECONOMICS_YAML.read_text())


def _inputs(**overrides: object) -> EconomicsInputs:
    """A plain 7 nm HBM design; keyword overrides replace its arrays."""
    values: dict[str, object] = {
        "peak_flop_per_s": 300 * TERA,
        "sram_capacity_bytes": 64 * 2**20,
        "process_node_nm": 7,
        "tdp_w": 400.0,
        "compute_units": 100,
        "hbm_stacks": 4,
        "hbm_capacity_bytes": 64 * GIB,
        "link_bandwidth_byte_per_s": 300e9,
    }
    values.update(overrides)
    return EconomicsInputs.from_arrays(**values)  # type: ignore[arg-type]


def economics_stacks(preset: str) -> int:
    hbm = load_hardware(preset).hbm
    return 0 if hbm is None else hbm.stacks


class TestEssayArithmetic:
    def test_150m_buys_15000_cards_and_750_servers(self) -> None:
        result = essay_arithmetic()
        assert result.normalised_design_cost_usd == pytest.approx(150e6)
        assert result.equivalent_cards == pytest.approx(15_000)
        assert result.equivalent_servers == pytest.approx(750)
        assert result.equivalent_server_gpus == pytest.approx(6_000)

    def test_normalisation_scales_the_ibs_curve_by_one_ratio(self) -> None:
        scale = 150e6 / 297.8e6  # essay $150M over IBS 7 nm [C020]
        assert PARAMS.nre_scale == pytest.approx(scale)
        assert PARAMS.node(5).design_cost_usd == pytest.approx(542.2e6 * scale)  # [C019]
        assert PARAMS.node(16).design_cost_usd == pytest.approx(106.3e6 * scale)  # [C022]
        assert essay_arithmetic().ibs_design_cost_usd == pytest.approx(297.8e6)

    def test_break_even_without_variable_cost_is_nre_over_price(self) -> None:
        assert break_even_volume(150e6, 0.0, 10_000)[0] == pytest.approx(15_000)


class TestDiesAndYield:
    def test_hand_calculated_die_cost_826mm2_at_7nm(self) -> None:
        area_mm2 = 826.0
        usable_diameter_mm = 300.0 - 2 * 3.0  # 3 mm edge exclusion
        gross = math.pi * (usable_diameter_mm / 2) ** 2 / area_mm2 - math.pi * (
            usable_diameter_mm
        ) / math.sqrt(2 * area_mm2)
        assert math.floor(gross) == 59
        defects = 0.09 * area_mm2 / 100.0  # [C029] D0 0.09 /cm2
        yield_ = (1 + defects / 3.0) ** -3.0  # negative binomial, alpha 3
        assert yield_ == pytest.approx(0.5147, abs=1e-4)
        die_cost = 9346.0 / (59 * yield_)  # [C003] N7 wafer $9,346
        assert die_cost == pytest.approx(307.76, abs=0.01)

        batch = chip_economics_batch(_inputs(silicon_area_m2=area_mm2 * MM2), volume=1)
        assert batch.dies_per_wafer[0] == 59
        assert batch.yield_fraction[0] == pytest.approx(yield_)
        assert batch.die_cost_usd[0] == pytest.approx(die_cost)

    def test_yield_falls_with_area(self) -> None:
        areas = np.array([50, 100, 200, 400, 600, 826]) * MM2
        yields = yield_fraction(areas, 0.09 / CM2, 0, 3.0)
        assert np.all(np.diff(yields) < 0)
        assert yields[0] == pytest.approx((1 + 0.045 / 3) ** -3)

    def test_bigger_die_costs_more_per_die_and_per_mm2(self) -> None:
        areas = np.array([100, 300, 600, 826])
        batch = chip_economics_batch(_inputs(silicon_area_m2=areas * MM2))
        assert np.all(np.diff(batch.die_cost_usd) > 0)
        assert np.all(np.diff(batch.die_cost_usd / areas) > 0)
        assert np.all(np.diff(batch.unit_cost_usd) > 0)

    def test_dies_per_wafer_counts_edge_loss(self) -> None:
        per_wafer = dies_per_wafer(np.array([100, 826]) * MM2)
        usable_mm2 = math.pi * 147.0**2
        assert per_wafer[0] < usable_mm2 / 100  # edge loss removes partial dies
        assert per_wafer[0] == 613  # 678.9 - 65.3 partial dies at the edge

    @pytest.mark.parametrize("alpha", [0.5, 3.0, 20.0])
    def test_negative_binomial_with_spares_matches_scipy(self, alpha: float) -> None:
        mean = np.array([0.5, 3.0, 41.6, 41.6, 41.6])
        spares = np.array([0, 2, 40, 120, 8_500])
        ours = yield_fraction(mean, 1.0, spares, alpha)
        expected = stats.nbinom.cdf(spares, alpha, alpha / (alpha + mean))
        np.testing.assert_allclose(ours, expected, rtol=1e-9)

    @given(
        area_mm2=st.floats(1, 40_000),
        growth=st.floats(1.01, 3),
        defects_per_cm2=st.floats(0.01, 0.5),
        spares=st.integers(0, 500),
        alpha=st.floats(0.5, 20),
    )
    def test_yield_properties(
        self, area_mm2: float, growth: float, defects_per_cm2: float, spares: int, alpha: float
    ) -> None:
        areas = np.array([area_mm2, area_mm2 * growth]) * MM2
        density = defects_per_cm2 / CM2
        small, large = yield_fraction(areas, density, spares, alpha)
        assert 0 < large <= small <= 1
        if spares == 0:  # with spares, tiny areas saturate at 1.0 in double precision
            assert large < small
        more_spares = yield_fraction(areas[1], density, spares + 10, alpha)[0]
        assert more_spares >= large

    def test_large_alpha_approaches_poisson(self) -> None:
        assert yield_fraction(1.0, 0.5, 0, 1e7)[0] == pytest.approx(math.exp(-0.5), rel=1e-6)


class TestWaferScale:
    """Cerebras WSE-2: 46,225 mm2, TSMC 7 nm, 850,000 cores ([hw])."""

    def _wse2(self, spare_unit_fraction: float = np.nan) -> EconomicsInputs:
        return _inputs(
            silicon_area_m2=46_225 * MM2,
            compute_units=850_000,
            hbm_stacks=0,
            hbm_capacity_bytes=0.0,
            sram_capacity_bytes=40e9,
            tdp_w=15_000.0,
            spare_unit_fraction=spare_unit_fraction,
        )

    def test_one_die_per_wafer_and_redundancy_saves_the_yield(self) -> None:
        batch = chip_economics_batch(self._wse2())
        mean_defects = 462.25 * 0.09
        naive = math.exp(-mean_defects)
        assert batch.dies_per_wafer[0] == 1
        assert batch.is_beyond_reticle[0]
        assert naive < 1e-17
        assert batch.yield_fraction[0] > 0.999  # 8,500 spare cores vs ~42 defects
        assert batch.die_cost_usd[0] == pytest.approx(9346 / batch.yield_fraction[0])

    def test_without_spares_a_wafer_almost_never_works(self) -> None:
        batch = chip_economics_batch(self._wse2(spare_unit_fraction=0.0))
        expected = (1 + 462.25 * 0.09 / 3) ** -3
        assert batch.yield_fraction[0] == pytest.approx(expected)
        assert batch.yield_fraction[0] < 1e-3

    def test_larger_than_the_wafer_is_infeasible_data(self) -> None:
        batch = chip_economics_batch(
            _inputs(silicon_area_m2=np.array([826, 80_000]) * MM2, compute_units=1000)
        )
        assert batch.feasible.tolist() == [True, False]
        assert batch.dies_per_wafer[1] == 0
        assert math.isinf(batch.unit_cost_usd[1])
        assert "exceeds the usable" in batch.infeasible_reasons(1)[0]
        assert batch.design(1).infeasible_reasons == batch.infeasible_reasons(1)


class TestDieAreaEstimate:
    @pytest.mark.parametrize(
        ("preset", "tolerance"), [("nvidia-a100-80gb", 0.10), ("nvidia-h100-sxm", 0.10)]
    )
    def test_preset_estimate_within_10_percent_of_spec(self, preset: str, tolerance: float) -> None:
        hardware = load_hardware(preset)
        assert hardware.technology.die_area_m2 is not None
        estimated = chip_economics(hardware, estimate_die_area=True)
        assert estimated.die_area_is_estimate
        error = estimated.die_area_m2 / hardware.technology.die_area_m2 - 1
        assert abs(error) < tolerance

    def test_fit_and_held_out_errors_are_the_documented_ones(self) -> None:
        errors = {c.chip: c.relative_error for c in die_area_checks()}
        # Fit chips: small by construction (one chip per node class is exact).
        assert errors["NVIDIA A100 40GB SXM4"] == pytest.approx(-0.037, abs=0.002)
        assert errors["Graphcore Colossus MK2 GC200"] == pytest.approx(0.029, abs=0.002)
        # Held out (docs/economics.md): the GPU-heavy fit overestimates dataflow chips.
        assert errors["Tesla Dojo D1"] == pytest.approx(0.578, abs=0.002)
        assert errors["Intel Gaudi2"] == pytest.approx(0.286, abs=0.002)
        assert errors["Groq LPU v1 (GroqChip / TSP)"] == pytest.approx(0.778, abs=0.002)
        assert errors["Cerebras WSE-3"] == pytest.approx(-0.536, abs=0.002)

    def test_leave_one_out_predicts_each_7nm_fit_chip_from_the_other(self) -> None:
        checks = {c.chip: c for c in die_area_checks()}
        a100 = checks["NVIDIA A100 40GB SXM4"]
        gc200 = checks["Graphcore Colossus MK2 GC200"]
        assert a100.leave_one_out_relative_error == pytest.approx(-0.073, abs=0.002)
        assert gc200.leave_one_out_relative_error == pytest.approx(0.059, abs=0.002)
        # A100 left out: the 7 nm fit is GC200's own logic area per FLOP/s.
        gc200_logic_per_tflop_mm2 = (823 - 282.4 - 6.9) / 250
        assert a100.leave_one_out_die_area_m2 == pytest.approx(
            (27.6 + 72.0 + 312 * gc200_logic_per_tflop_mm2) * MM2, rel=0.002
        )
        assert checks["NVIDIA H100 SXM5 80GB"].leave_one_out_die_area_m2 is None
        held_out = checks["Tesla Dojo D1"]
        assert held_out.leave_one_out_die_area_m2 == held_out.estimated_die_area_m2

    def test_sram_array_efficiency_from_macro_vs_bitcell(self) -> None:
        n3e = 31.8 * 2**20 * 0.021e-12 / 1e-6
        n3b = 33.55 * 2**20 * 0.0199e-12 / 1e-6
        n2 = 38e6 * 0.0175e-12 / 1e-6
        assert PARAMS.sram_array_efficiency == pytest.approx((n3e + n3b + n2) / 3, rel=1e-3)
        assert 0.65 < PARAMS.sram_array_efficiency < 0.72

    def test_more_sram_more_area_and_node_shrinks_it(self) -> None:
        area = estimate_die_area_m2(
            [300 * TERA, 300 * TERA, 300 * TERA],
            [0, 512 * 2**20, 512 * 2**20],
            4,
            0,
            300e9,
            [7, 7, 5],
        )
        sram_7nm_mm2 = 512 * 2**20 * 8 * 0.027e-6 / PARAMS.sram_array_efficiency
        assert (area[1] - area[0]) / MM2 == pytest.approx(sram_7nm_mm2)
        assert area[2] < area[1]

    def test_dies_per_package_split_the_area(self) -> None:
        one, two = estimate_die_area_m2(600 * TERA, 0, 8, 0, 0, 5, [1, 2])
        assert two == pytest.approx(one / 2)


class TestCostsAgainstPublishedBoms:
    def test_h100_manufacturing_cost_near_the_raymond_james_bom(self) -> None:
        economics = chip_economics(load_hardware("nvidia-h100-sxm"))
        # [C049]: H100 SXM manufacturing cost ~$3,320.
        assert economics.variable_cost_usd == pytest.approx(3320, rel=0.10)
        # [C045] BOM line: 80 GB HBM3 $1,350.
        assert economics.memory_cost_usd == pytest.approx(1350, rel=0.10)
        assert economics.packaging_cost_usd == pytest.approx(750 + 920)

    def test_b200_packaging_check_within_25_percent(self) -> None:
        # B200: 2 dies, ~1600 mm2 in all, 8 HBM3e stacks ([hw]); packaging $1,100 ([C046]).
        batch = chip_economics_batch(
            _inputs(
                silicon_area_m2=1600 * MM2,
                dies_per_package=2,
                hbm_stacks=8,
                process_node_nm=4,
            )
        )
        assert batch.die_area_m2[0] == pytest.approx(800 * MM2)
        assert batch.silicon_area_m2[0] == pytest.approx(1600 * MM2)
        cowos = batch.packaging_cost_usd[0] - 920
        assert cowos == pytest.approx(1100, rel=0.25)
        assert cowos > 1100  # the area rule overcharges B200's larger CoWoS-L slightly


class TestUnitCostAndTco:
    def test_multi_die_preset_splits_its_silicon(self) -> None:
        # MI300X: 1017 mm2 of chiplet silicon in 12 dies ([hw], Epoch alt figure).
        economics = chip_economics(load_hardware("amd-mi300x"))
        assert economics.dies_per_package == 12
        assert economics.die_area_m2 == pytest.approx(1017 * MM2 / 12)
        assert economics.silicon_area_m2 == pytest.approx(1017 * MM2)
        interposer_mm2 = 1017 + economics_stacks("amd-mi300x") * 110
        assert economics.packaging_cost_usd == pytest.approx(
            920 + interposer_mm2 * PARAMS.interposer_usd_per_m2 * MM2
        )

    def test_unit_cost_amortises_nre(self) -> None:
        batch = chip_economics_batch(
            _inputs(peak_flop_per_s=[300 * TERA, 300 * TERA]), volume=[1_000, 100_000]
        )
        difference = batch.unit_cost_usd[0] - batch.unit_cost_usd[1]
        assert difference == pytest.approx(150e6 / 1_000 - 150e6 / 100_000)
        np.testing.assert_allclose(batch.variable_cost_usd[0], batch.variable_cost_usd[1])

    def test_tco_adds_electricity(self) -> None:
        economics = chip_economics(load_hardware("nvidia-h100-sxm"), volume=20_000)
        energy = 700 * 4 * 365.25 * 24 / 1000 * 1.58 * 0.08  # W -> kWh x PUE x $/kWh
        assert energy == pytest.approx(3102.46, abs=0.01)
        assert economics.tco_usd() == pytest.approx(economics.unit_cost_usd + energy)
        assert economics.tco_usd(years=2, power_price_usd_per_kwh=0.16) == pytest.approx(
            economics.unit_cost_usd + energy
        )
        assert lifetime_energy_cost_usd(700, 4, 0.08, 1.0, 0.5)[0] == pytest.approx(
            energy / 1.58 / 2
        )

    def test_break_even_accounts_for_margin_and_performance(self) -> None:
        volumes = break_even_volume(
            150e6, [4_000, 12_000, 4_000], 10_000, performance_ratio=[1.0, 1.0, 3.0]
        )
        assert volumes[0] == pytest.approx(150e6 / 6_000)
        assert math.isinf(volumes[1])  # costs more to make than the card sells for
        assert volumes[2] == pytest.approx(150e6 / 26_000)

    def test_report_against_the_essay_a100(self) -> None:
        hardware = load_hardware("nvidia-h100-sxm")
        a100 = PARAMS.purchase_references["a100-essay"]
        report = design_economics_report(hardware, a100, volume=10_000, years=4)
        economics = report.economics
        assert report.performance_ratio == pytest.approx(989.4 / 312)
        assert report.break_even_volume_simple == pytest.approx(
            economics.nre_usd / (10_000 - economics.variable_cost_usd)
        )
        a100_energy = 400 * 4 * 365.25 * 24 / 1000 * 1.58 * 0.08
        margin = (989.4 / 312) * (10_000 + a100_energy) - (
            economics.variable_cost_usd + report.energy_cost_usd
        )
        assert report.break_even_volume_tco == pytest.approx(economics.nre_usd / margin)
        assert report.estimated_die_area_m2 == pytest.approx(814 * MM2, rel=0.01)

    def test_report_reference_without_peak_is_a_config_error(self) -> None:
        h100_price_only = PARAMS.purchase_references["nvidia-h100-sxm"]
        assert h100_price_only.peak_flop_per_s is None
        with pytest.raises(ConfigError, match="needs peak_16bit_tflops"):
            design_economics_report(load_hardware("nvidia-h100-sxm"), h100_price_only)

    def test_batch_matches_one_design_at_a_time(self) -> None:
        designs = [load_hardware(name) for name in ("nvidia-a100-80gb", "nvidia-h100-sxm")]
        batch = chip_economics_batch(EconomicsInputs.from_hardware(designs), volume=5_000)
        for index, hardware in enumerate(designs):
            assert batch.design(index) == chip_economics(hardware, volume=5_000)

    def test_ten_thousand_designs_in_one_call(self) -> None:
        rng = np.random.default_rng(0)
        count = 10_000
        batch = chip_economics_batch(
            _inputs(
                peak_flop_per_s=rng.uniform(50, 2000, count) * TERA,
                sram_capacity_bytes=rng.uniform(16, 2048, count) * 2**20,
                process_node_nm=rng.choice([3, 4, 5, 7, 12], count),
                hbm_stacks=rng.integers(0, 9, count),
            )
        )
        assert len(batch) == count
        assert np.all(np.isfinite(batch.die_area_m2))
        assert np.all((batch.yield_fraction > 0) & (batch.yield_fraction <= 1))


class TestBadInput:
    def test_unsupported_node_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError) as caught:
            node_class_index([7, 28, 1], PARAMS)
        message = str(caught.value)
        assert "technology.process_node_nm" in message
        assert "1.0" in message and "28.0" in message

    def test_every_problem_in_the_file_is_reported(self) -> None:
        document = _document()
        broken = copy.deepcopy(document)
        broken["nodes"][0]["wafer_price_usd"] = -1
        broken["memory"]["hbm_price_usd_per_gbytes"] = 15
        broken["tco"]["default_pue"] = 0.9
        with pytest.raises(ConfigError) as caught:
            parse_economics_parameters(broken, "economics.yaml")
        paths = {problem.key_path for problem in caught.value.problems}
        assert "nodes[0].wafer_price_usd" in paths  # key paths as in every config file
        assert "memory.hbm_price_usd_per_gbytes" in paths
        assert "tco.default_pue" in paths
        assert all(problem.source == "economics.yaml" for problem in caught.value.problems)

    def test_node_without_fit_or_gain_is_reported(self) -> None:
        document = _document()
        document["nodes"][0].pop("logic_density_gain")
        with pytest.raises(ConfigError, match=r"nodes\[3nm\]"):
            parse_economics_parameters(document, "economics.yaml")

    def test_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="file not found"):
            load_economics_parameters(tmp_path / "absent.yaml")

    def test_loading_the_packaged_file_by_path_gives_the_same_numbers(self) -> None:
        loaded = load_economics_parameters(ECONOMICS_YAML)
        assert loaded.nodes == PARAMS.nodes
        assert loaded.interposer_usd_per_m2 == PARAMS.interposer_usd_per_m2
