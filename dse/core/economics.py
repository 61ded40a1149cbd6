"""Chip economics: die area, yield, unit cost, NRE, TCO and break-even volume.

Pure and numpy-vectorised over designs: `chip_economics_batch` takes arrays (one entry per
design; the search calls it for thousands of designs at once), `chip_economics` is the
convenience wrapper for one `Hardware`. Every figure comes from `dse/data/economics.yaml`
(loaded and validated by `load_economics_parameters`), which names its source.

All quantities are SI inside (m2, bytes, FLOP/s, W, USD); names carry the unit.

Never imports optuna, ray, pyarrow or the CLI.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dse.config._problems import problems_from_validation_error
from dse.config._types import Count, Flag, Number
from dse.errors import ConfigError, Problem
from dse.hardware import Hardware
from dse.units import CM2, GIGA, MM2, TERA

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

HOURS_PER_YEAR = 365.25 * 24.0
JOULES_PER_KWH = 3.6e6
UM2 = 1e-12  # one square micrometre in square metres

DEFAULT_ECONOMICS_FILE = "economics.yaml"

# ---------------------------------------------------------------------------------------
# The economics file: strict schema (extra="forbid"), every problem reported at once.
# ---------------------------------------------------------------------------------------

# NOTE: the strict config types (dse/config/_types.py): a number written as a string
# ('300') or a boolean (true) is refused, never coerced, as in every other config file.
PositiveFloat = Annotated[Number, Field(gt=0)]
NonNegativeFloat = Annotated[Number, Field(ge=0)]
NonNegativeCount = Annotated[Count, Field(ge=0)]
PositiveCount = Annotated[Count, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _EssayModel(_Strict):
    design_cost_range_usd: tuple[PositiveFloat, PositiveFloat]
    normalised_design_cost_usd: PositiveFloat
    normalised_at_node_nm: PositiveFloat
    a100_card_price_usd: PositiveFloat
    server_price_usd: PositiveFloat
    gpus_per_server: PositiveCount


class _WaferModel(_Strict):
    diameter_mm: PositiveFloat
    edge_exclusion_mm: NonNegativeFloat
    reticle_limit_mm2: PositiveFloat


class _YieldModel(_Strict):
    cluster_alpha: PositiveFloat
    beyond_reticle_spare_unit_fraction: Annotated[Number, Field(ge=0, lt=1)]


class _MacroVsBitcell(_Strict):
    node: str
    macro_density_mbit_per_mm2: PositiveFloat
    bitcell_area_um2: PositiveFloat


class _SramModel(_Strict):
    macro_vs_bitcell: list[_MacroVsBitcell] = Field(min_length=1)


class _IoModel(_Strict):
    hbm_phy_area_mm2_per_stack: NonNegativeFloat
    ddr_phy_area_mm2_per_channel: NonNegativeFloat
    serdes_area_mm2_per_gbyte_s: NonNegativeFloat


class _LogicDensityGain(_Strict):
    over_node_nm: PositiveFloat
    factor: PositiveFloat


class _NodeModel(_Strict):
    name: str
    node_nm: PositiveFloat
    min_node_nm: NonNegativeFloat
    max_node_nm: PositiveFloat
    wafer_price_usd: PositiveFloat
    defect_density_per_cm2: NonNegativeFloat
    sram_bitcell_area_um2: PositiveFloat
    design_cost_ibs_usd: PositiveFloat
    logic_density_gain: _LogicDensityGain | None = None

    @model_validator(mode="after")
    def _range_holds_node(self) -> _NodeModel:
        if not self.min_node_nm < self.node_nm <= self.max_node_nm:
            raise ValueError(
                f"node_nm {self.node_nm} must lie in (min_node_nm {self.min_node_nm}, "
                f"max_node_nm {self.max_node_nm}]"
            )
        return self


class _CalibrationChipModel(_Strict):
    chip: str
    node_nm: PositiveFloat
    die_area_mm2: PositiveFloat
    peak_16bit_tflops: PositiveFloat
    sram_mbyte: NonNegativeFloat
    hbm_stacks: NonNegativeCount
    ddr_channels: NonNegativeCount
    link_gbyte_s_per_direction: NonNegativeFloat
    use_in_fit: Flag


class _MemoryModel(_Strict):
    hbm_price_usd_per_gbyte: NonNegativeFloat
    ddr_price_usd_per_gbyte: NonNegativeFloat


class _PackagingModel(_Strict):
    cowos_reference_usd: PositiveFloat
    cowos_reference_die_area_mm2: PositiveFloat
    cowos_reference_hbm_stacks: NonNegativeCount
    hbm_footprint_mm2: NonNegativeFloat
    assembly_and_test_usd: NonNegativeFloat


class _TcoModel(_Strict):
    default_years: PositiveFloat
    default_power_price_usd_per_kwh: NonNegativeFloat
    default_pue: Annotated[Number, Field(ge=1)]
    default_average_power_fraction: Annotated[Number, Field(gt=0, le=1)]
    default_volume: PositiveCount


class _PurchaseModel(_Strict):
    price_usd: PositiveFloat
    peak_16bit_tflops: PositiveFloat | None = None
    tdp_w: PositiveFloat | None = None


class _EconomicsFile(_Strict):
    essay: _EssayModel
    wafer: _WaferModel
    yield_model: _YieldModel
    sram: _SramModel
    io: _IoModel
    nodes: list[_NodeModel] = Field(min_length=1)
    die_area_calibration: list[_CalibrationChipModel] = Field(min_length=1)
    memory: _MemoryModel
    packaging: _PackagingModel
    tco: _TcoModel
    purchase_reference: dict[str, _PurchaseModel]


# ---------------------------------------------------------------------------------------
# Domain parameters (SI), built once from the file.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeEconomics:
    """Per-process-node figures, SI units. Covers process nodes in (min_node_nm, max_node_nm]."""

    name: str
    node_nm: float
    min_node_nm: float
    max_node_nm: float
    wafer_price_usd: float
    defect_density_per_m2: float
    sram_bitcell_area_m2: float
    design_cost_usd: float
    """NRE, normalised the way the essay does (see `EconomicsParameters.nre_scale`)."""
    logic_area_m2_per_flop_per_s: float
    """Fitted from real chips (or scaled from a fitted node); 16-bit dense peak."""


@dataclass(frozen=True, slots=True)
class CalibrationChip:
    """A real chip whose die area calibrates (or checks) the die-area estimate."""

    chip: str
    process_node_nm: float
    die_area_m2: float
    peak_flop_per_s: float
    sram_capacity_bytes: float
    hbm_stacks: int
    ddr_channels: int
    link_bandwidth_byte_per_s: float
    use_in_fit: Flag


@dataclass(frozen=True, slots=True)
class PurchaseReference:
    """An existing chip one could buy instead of designing one."""

    name: str
    price_usd: float
    peak_flop_per_s: float | None
    tdp_w: float | None


@dataclass(frozen=True, slots=True)
class EconomicsParameters:
    """Everything the economics model needs, SI units; see dse/data/economics.yaml."""

    source: str
    nodes: tuple[NodeEconomics, ...]
    calibration_chips: tuple[CalibrationChip, ...]
    wafer_diameter_m: float
    edge_exclusion_m: float
    reticle_limit_m2: float
    cluster_alpha: float
    beyond_reticle_spare_unit_fraction: float
    sram_array_efficiency: float
    hbm_phy_area_m2_per_stack: float
    ddr_phy_area_m2_per_channel: float
    serdes_area_m2_per_byte_per_s: float
    hbm_price_usd_per_byte: float
    ddr_price_usd_per_byte: float
    interposer_usd_per_m2: float
    hbm_footprint_m2: float
    assembly_and_test_usd: float
    nre_scale: float
    """Essay normalisation: normalised 7 nm design cost / IBS 7 nm design cost."""
    essay_design_cost_range_usd: tuple[float, float]
    essay_design_cost_usd: float
    essay_node_nm: float
    essay_card_price_usd: float
    essay_server_price_usd: float
    essay_gpus_per_server: int
    default_years: float
    default_power_price_usd_per_kwh: float
    default_pue: float
    default_average_power_fraction: float
    default_volume: int
    purchase_references: Mapping[str, PurchaseReference] = field(default_factory=dict)

    @property
    def usable_wafer_area_m2(self) -> float:
        radius_m = self.wafer_diameter_m / 2.0 - self.edge_exclusion_m
        return math.pi * radius_m**2

    def node(self, process_node_nm: float) -> NodeEconomics:
        return self.nodes[int(node_class_index([process_node_nm], self)[0])]


def parse_economics_parameters(document: Any, source: str) -> EconomicsParameters:
    """Validate an economics document (parsed YAML) and build SI parameters.

    Raises ConfigError listing every problem (file + key path) at once.
    """
    try:
        parsed = _EconomicsFile.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc, source, model=_EconomicsFile)
                          ) from None
    return _build_parameters(parsed, source)


def _build_parameters(parsed: _EconomicsFile, source: str) -> EconomicsParameters:
    problems: list[Problem] = []
    nodes_sorted = sorted(parsed.nodes, key=lambda n: n.max_node_nm)
    for previous, current in itertools.pairwise(nodes_sorted):
        if abs(current.min_node_nm - previous.max_node_nm) > 1e-9:
            problems.append(
                Problem(
                    source,
                    f"nodes[{current.name}].min_node_nm",
                    f"{current.min_node_nm} leaves a gap or overlap with node "
                    f"{previous.name} (max_node_nm {previous.max_node_nm})",
                )
            )

    # NOTE: SRAM macros hold bit cells plus periphery (decoders, sense amplifiers, write
    # assist). The array efficiency is measured where both figures are published: TSMC
    # N3E, N3B, N2 macro density vs raw HD bit-cell density ([C034]-[C041]); mean ~0.69.
    efficiencies = [
        row.macro_density_mbit_per_mm2 * 1e6 * (row.bitcell_area_um2 * UM2) / MM2
        for row in parsed.sram.macro_vs_bitcell
    ]
    sram_array_efficiency = float(np.mean(efficiencies))

    # NOTE: the essay normalises a 7 nm design budget of $120M-$420M to $150M; the IBS
    # curve ([C019]-[C022]) gives $297.8M at 7 nm, headline numbers SemiEngineering calls
    # inflated for replicated-array AI chips ([C019] notes). Scaling the whole IBS curve by
    # the same ratio keeps its node-to-node growth and puts 7 nm at the essay's $150M.
    anchor = [n for n in nodes_sorted if n.node_nm == parsed.essay.normalised_at_node_nm]
    if not anchor:
        problems.append(
            Problem(
                source,
                "essay.normalised_at_node_nm",
                f"no node with node_nm {parsed.essay.normalised_at_node_nm} to normalise at",
            )
        )
        nre_scale = 1.0
    else:
        nre_scale = parsed.essay.normalised_design_cost_usd / anchor[0].design_cost_ibs_usd

    calibration = tuple(
        CalibrationChip(
            chip=row.chip,
            process_node_nm=row.node_nm,
            die_area_m2=row.die_area_mm2 * MM2,
            peak_flop_per_s=row.peak_16bit_tflops * TERA,
            sram_capacity_bytes=row.sram_mbyte * 1e6,
            hbm_stacks=row.hbm_stacks,
            ddr_channels=row.ddr_channels,
            link_bandwidth_byte_per_s=row.link_gbyte_s_per_direction * GIGA,
            use_in_fit=row.use_in_fit,
        )
        for row in parsed.die_area_calibration
    )

    io = parsed.io
    hbm_phy_m2 = io.hbm_phy_area_mm2_per_stack * MM2
    ddr_phy_m2 = io.ddr_phy_area_mm2_per_channel * MM2
    serdes_m2_per_byte_s = io.serdes_area_mm2_per_gbyte_s * MM2 / GIGA

    def bracket(node_nm: float) -> int | None:
        for index, node in enumerate(nodes_sorted):
            if node.min_node_nm < node_nm <= node.max_node_nm:
                return index
        return None

    # NOTE: logic area per unit of 16-bit dense peak FLOP/s is fitted per node class from
    # real chips (hardware.csv): logic = die area - SRAM macros - I/O PHYs; the fit is the
    # geometric mean over the node's `use_in_fit` chips. It absorbs what the other terms
    # leave out (schedulers, FP32/FP64 units, NoC, harvested spare units), so it is only
    # as good as the architectures it was fitted on; held-out errors are in
    # docs/economics.md. Nodes without fit chips scale a fitted node by a published
    # logic-density gain.
    logic_per_flop: dict[int, float] = {}
    fit_logs: dict[int, list[float]] = {}
    for index_in_file, chip in enumerate(calibration):
        node_index = bracket(chip.process_node_nm)
        if node_index is None:
            problems.append(
                Problem(
                    source,
                    f"die_area_calibration[{index_in_file}].node_nm",
                    f"{chip.process_node_nm} nm is in no node class",
                )
            )
            continue
        if not chip.use_in_fit:
            continue
        node = nodes_sorted[node_index]
        sram_m2 = (
            chip.sram_capacity_bytes * 8.0 * node.sram_bitcell_area_um2 * UM2
        ) / sram_array_efficiency
        io_m2 = (
            chip.hbm_stacks * hbm_phy_m2
            + chip.ddr_channels * ddr_phy_m2
            + chip.link_bandwidth_byte_per_s * serdes_m2_per_byte_s
        )
        logic_m2 = chip.die_area_m2 - sram_m2 - io_m2
        if logic_m2 <= 0:
            problems.append(
                Problem(
                    source,
                    f"die_area_calibration[{index_in_file}]",
                    f"{chip.chip}: SRAM + I/O area exceed the die area; cannot fit logic",
                )
            )
            continue
        fit_logs.setdefault(node_index, []).append(math.log(logic_m2 / chip.peak_flop_per_s))
    for node_index, logs in fit_logs.items():
        logic_per_flop[node_index] = math.exp(sum(logs) / len(logs))

    for index, node in enumerate(nodes_sorted):
        if index in logic_per_flop:
            continue
        gain = node.logic_density_gain
        reference = bracket(gain.over_node_nm) if gain is not None else None
        if gain is None or reference is None or reference not in logic_per_flop:
            problems.append(
                Problem(
                    source,
                    f"nodes[{node.name}]",
                    "no calibration chip with use_in_fit in this node class and no "
                    "logic_density_gain over a fitted node",
                )
            )
            continue
        logic_per_flop[index] = logic_per_flop[reference] / gain.factor

    packaging = parsed.packaging
    interposer_reference_mm2 = (
        packaging.cowos_reference_die_area_mm2
        + packaging.cowos_reference_hbm_stacks * packaging.hbm_footprint_mm2
    )
    # NOTE: CoWoS cost scales with interposer area: calibrated on the H100 BOM's $750
    # ([C045]) for an 814 mm2 die + 5 HBM3 stacks; checked against B200 ([C046]).
    interposer_usd_per_m2 = packaging.cowos_reference_usd / (interposer_reference_mm2 * MM2)

    if problems:
        raise ConfigError(problems)

    nodes = tuple(
        NodeEconomics(
            name=node.name,
            node_nm=node.node_nm,
            min_node_nm=node.min_node_nm,
            max_node_nm=node.max_node_nm,
            wafer_price_usd=node.wafer_price_usd,
            defect_density_per_m2=node.defect_density_per_cm2 / CM2,
            sram_bitcell_area_m2=node.sram_bitcell_area_um2 * UM2,
            design_cost_usd=node.design_cost_ibs_usd * nre_scale,
            logic_area_m2_per_flop_per_s=logic_per_flop[index],
        )
        for index, node in enumerate(nodes_sorted)
    )
    purchase = {
        name: PurchaseReference(
            name=name,
            price_usd=row.price_usd,
            peak_flop_per_s=None if row.peak_16bit_tflops is None else row.peak_16bit_tflops * TERA,
            tdp_w=row.tdp_w,
        )
        for name, row in parsed.purchase_reference.items()
    }
    essay = parsed.essay
    return EconomicsParameters(
        source=source,
        nodes=nodes,
        calibration_chips=calibration,
        wafer_diameter_m=parsed.wafer.diameter_mm * 1e-3,
        edge_exclusion_m=parsed.wafer.edge_exclusion_mm * 1e-3,
        reticle_limit_m2=parsed.wafer.reticle_limit_mm2 * MM2,
        cluster_alpha=parsed.yield_model.cluster_alpha,
        beyond_reticle_spare_unit_fraction=parsed.yield_model.beyond_reticle_spare_unit_fraction,
        sram_array_efficiency=sram_array_efficiency,
        hbm_phy_area_m2_per_stack=hbm_phy_m2,
        ddr_phy_area_m2_per_channel=ddr_phy_m2,
        serdes_area_m2_per_byte_per_s=serdes_m2_per_byte_s,
        hbm_price_usd_per_byte=parsed.memory.hbm_price_usd_per_gbyte / GIGA,
        ddr_price_usd_per_byte=parsed.memory.ddr_price_usd_per_gbyte / GIGA,
        interposer_usd_per_m2=interposer_usd_per_m2,
        hbm_footprint_m2=packaging.hbm_footprint_mm2 * MM2,
        assembly_and_test_usd=packaging.assembly_and_test_usd,
        nre_scale=nre_scale,
        essay_design_cost_range_usd=essay.design_cost_range_usd,
        essay_design_cost_usd=essay.normalised_design_cost_usd,
        essay_node_nm=essay.normalised_at_node_nm,
        essay_card_price_usd=essay.a100_card_price_usd,
        essay_server_price_usd=essay.server_price_usd,
        essay_gpus_per_server=essay.gpus_per_server,
        default_years=parsed.tco.default_years,
        default_power_price_usd_per_kwh=parsed.tco.default_power_price_usd_per_kwh,
        default_pue=parsed.tco.default_pue,
        default_average_power_fraction=parsed.tco.default_average_power_fraction,
        default_volume=parsed.tco.default_volume,
        purchase_references=purchase,
    )


def load_economics_parameters(path: str | Path | None = None) -> EconomicsParameters:
    """Load and validate an economics YAML file (default: the packaged dse/data one)."""
    if path is None:
        return default_economics_parameters()
    from dse.config._yaml import read_yaml_mapping

    # NOTE: the shared strict reader: size, depth and alias-expansion limits, duplicate
    # keys refused (a user's economics file is as untrusted as any other input).
    return parse_economics_parameters(read_yaml_mapping(path), str(path))


@lru_cache(maxsize=1)
def default_economics_parameters() -> EconomicsParameters:
    """The packaged dse/data/economics.yaml, parsed once per process."""
    resource = resources.files("dse.data").joinpath(DEFAULT_ECONOMICS_FILE)
    source = f"dse/data/{DEFAULT_ECONOMICS_FILE}"
    return parse_economics_parameters(yaml.safe_load(resource.read_text(encoding="utf-8")), source)


# ---------------------------------------------------------------------------------------
# The vectorised model.
# ---------------------------------------------------------------------------------------


def _as_float_array(values: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def node_class_index(process_node_nm: ArrayLike, params: EconomicsParameters) -> IntArray:
    """Index into `params.nodes` for each design's process node.

    Raises ConfigError naming every node outside the covered classes.
    """
    node_nm = _as_float_array(process_node_nm)
    upper = np.array([n.max_node_nm for n in params.nodes])
    lowest = params.nodes[0].min_node_nm
    index = np.searchsorted(upper, node_nm, side="left")
    bad = (node_nm <= lowest) | (index >= len(params.nodes)) | ~np.isfinite(node_nm)
    if np.any(bad):
        covered = ", ".join(f"{n.name} ({n.min_node_nm}, {n.max_node_nm}]" for n in params.nodes)
        unsupported = sorted({float(v) for v in node_nm[bad]})
        raise ConfigError(
            Problem(
                params.source,
                "technology.process_node_nm",
                f"no economics for process node(s) {unsupported} nm; covered: {covered}",
            )
        )
    return index.astype(np.int64)


def sram_area_m2(
    sram_capacity_bytes: ArrayLike, process_node_nm: ArrayLike, params: EconomicsParameters
) -> FloatArray:
    """SRAM macro area: bits x HD bit-cell area / array efficiency."""
    nodes = node_class_index(process_node_nm, params)
    bitcell_m2 = np.array([n.sram_bitcell_area_m2 for n in params.nodes])[nodes]
    bits = _as_float_array(sram_capacity_bytes) * 8.0
    result: FloatArray = bits * bitcell_m2 / params.sram_array_efficiency
    return result


def estimate_die_area_m2(
    peak_flop_per_s: ArrayLike,
    sram_capacity_bytes: ArrayLike,
    hbm_stacks: ArrayLike,
    ddr_channels: ArrayLike,
    link_bandwidth_byte_per_s: ArrayLike,
    process_node_nm: ArrayLike,
    dies_per_package: ArrayLike = 1,
    params: EconomicsParameters | None = None,
) -> FloatArray:
    """Estimated area of one die (m2): logic + SRAM + I/O, split over `dies_per_package`.

    `peak_flop_per_s` is the 16-bit dense tensor peak of the whole package;
    `link_bandwidth_byte_per_s` is chip-to-chip plus host link bandwidth per direction.
    Arrays broadcast against each other.
    """
    params = params or default_economics_parameters()
    nodes = node_class_index(process_node_nm, params)
    logic_per_flop = np.array([n.logic_area_m2_per_flop_per_s for n in params.nodes])[nodes]
    logic_m2 = _as_float_array(peak_flop_per_s) * logic_per_flop
    io_m2 = (
        _as_float_array(hbm_stacks) * params.hbm_phy_area_m2_per_stack
        + _as_float_array(ddr_channels) * params.ddr_phy_area_m2_per_channel
        + _as_float_array(link_bandwidth_byte_per_s) * params.serdes_area_m2_per_byte_per_s
    )
    total_m2 = logic_m2 + sram_area_m2(sram_capacity_bytes, process_node_nm, params) + io_m2
    result: FloatArray = total_m2 / _as_float_array(dies_per_package)
    return result


def dies_per_wafer(die_area_m2: ArrayLike, params: EconomicsParameters | None = None) -> FloatArray:
    """Whole dies per wafer, with edge loss; 1 for a wafer-scale part, 0 if it cannot fit.

    NOTE: the standard gross-die formula pi*r^2/A - pi*d/sqrt(2A) over the usable wafer
    (diameter minus edge exclusion); the second term counts the partial dies lost at the
    edge. A part larger than that formula allows but smaller than the usable wafer is one
    die per wafer: Cerebras' 46,225 mm2 square exceeds the inscribed square of a 300 mm
    wafer and survives by clipping its corners.
    """
    params = params or default_economics_parameters()
    area = _as_float_array(die_area_m2)
    usable_diameter_m = params.wafer_diameter_m - 2.0 * params.edge_exclusion_m
    usable_area_m2 = params.usable_wafer_area_m2
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = usable_area_m2 / area - math.pi * usable_diameter_m / np.sqrt(2.0 * area)
    count = np.floor(np.maximum(gross, 0.0))
    count = np.where((count < 1.0) & (area <= usable_area_m2), 1.0, count)
    result: FloatArray = np.where(area > 0, count, 0.0)
    return result


_CDF_CHUNK_ROWS = 1024


def _negative_binomial_cdf(
    count_limit: FloatArray, mean_defects: FloatArray, alpha: float
) -> FloatArray:
    """P(N <= count_limit) for N ~ negative binomial(mean, shape alpha), elementwise."""
    result = np.ones_like(mean_defects)
    zero_spares = count_limit <= 0
    result[zero_spares] = (1.0 + mean_defects[zero_spares] / alpha) ** (-alpha)
    mean = mean_defects
    with np.errstate(divide="ignore"):
        log_q = np.log(mean / (mean + alpha))
        # The pmf tail decays like q^n: past mean + 40 sd and 50 / -log(q) more terms it is
        # below double precision, so a design with more spares than that has yield 1.
        geometric_terms = np.where(mean > 0, 50.0 / -log_q, 0.0)
    horizon = np.ceil(mean + 40.0 * np.sqrt(mean + mean**2 / alpha) + 40.0 + geometric_terms)
    to_sum = np.flatnonzero(~zero_spares & (count_limit < horizon) & (mean > 0))
    for start in range(0, to_sum.size, _CDF_CHUNK_ROWS):
        rows = to_sum[start : start + _CDF_CHUNK_ROWS]
        result[rows] = _negative_binomial_cdf_by_summing(
            count_limit[rows], mean[rows], log_q[rows], horizon[rows], alpha
        )
    return result


def _negative_binomial_pmf_grid(
    n_max: int, mean: FloatArray, log_q: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """pmf(n) for n = 0..n_max, one row per design; and n."""
    n = np.arange(n_max + 1, dtype=np.float64)
    log_p0 = alpha * np.log(alpha / (alpha + mean))
    # log pmf(n) = log pmf(0) + sum_{j<n} [log(j + alpha) - log(j + 1)] + n log q
    steps = np.log(n[:-1] + alpha) - np.log(n[:-1] + 1.0)
    log_ratio_cumsum = np.concatenate(([0.0], np.cumsum(steps)))
    pmf = np.exp(log_p0[:, None] + log_ratio_cumsum[None, :] + n[None, :] * log_q[:, None])
    return pmf, n


def _negative_binomial_cdf_by_summing(
    limit: FloatArray, mean: FloatArray, log_q: FloatArray, horizon: FloatArray, alpha: float
) -> FloatArray:
    pmf, n = _negative_binomial_pmf_grid(int(limit.max()), mean, log_q, alpha)
    result: FloatArray = np.where(n[None, :] <= limit[:, None], pmf, 0.0).sum(axis=1)
    # NOTE: near 1 the CDF is recomputed as 1 - upper tail, which keeps the small
    # complement exact (the lower sum carries ~1e-15 rounding noise that would break
    # monotonicity in the number of spares). Only those rows pay for the long grid.
    high = np.flatnonzero(result >= 0.5)
    if high.size:
        pmf, n = _negative_binomial_pmf_grid(
            int(horizon[high].max()), mean[high], log_q[high], alpha
        )
        tail = (n[None, :] > limit[high, None]) & (n[None, :] <= horizon[high, None])
        result[high] = 1.0 - np.where(tail, pmf, 0.0).sum(axis=1)
    clipped: FloatArray = np.clip(result, 0.0, 1.0)
    return clipped


def yield_fraction(
    die_area_m2: ArrayLike,
    defect_density_per_m2: ArrayLike,
    spare_units: ArrayLike = 0,
    cluster_alpha: float = 3.0,
) -> FloatArray:
    """Fraction of dies that work.

    NOTE: negative-binomial defect counts (mean A*D0, cluster parameter alpha), not Murphy
    or Poisson: defects cluster, so Poisson (exp(-A*D0)) is far too pessimistic for
    reticle-sized dies, and the negative binomial is the model industry yield calculators
    use; Murphy's integral is close to it for alpha ~ 3 but has no count distribution to
    reason about spares with. A die with `spare_units` redundant units survives up to that
    many defects (each defect disables at most one unit, which holds when units far
    outnumber defects, as on Cerebras' 850,000-core wafer): yield = P(N <= spares).
    """
    area = _as_float_array(die_area_m2)
    density = _as_float_array(defect_density_per_m2)
    spares = np.floor(_as_float_array(spare_units))
    area, density, spares = np.broadcast_arrays(area, density, spares)
    mean_defects = np.ascontiguousarray(area * density, dtype=np.float64)
    return _negative_binomial_cdf(
        np.ascontiguousarray(spares, dtype=np.float64), mean_defects, cluster_alpha
    )


def lifetime_energy_cost_usd(
    tdp_w: ArrayLike,
    years: float,
    power_price_usd_per_kwh: float,
    pue: float,
    average_power_fraction: float,
) -> FloatArray:
    """Electricity for one chip over `years`, facility overhead (PUE) included."""
    energy_j = (
        _as_float_array(tdp_w) * average_power_fraction * years * HOURS_PER_YEAR * 3600.0 * pue
    )
    result: FloatArray = energy_j / JOULES_PER_KWH * power_price_usd_per_kwh
    return result


@dataclass(frozen=True, slots=True)
class EconomicsInputs:
    """A batch of designs as arrays (one entry per design), SI units.

    `silicon_area_m2` is the total silicon of one package (all its dies, as
    `TechnologySpec.die_area_m2` is); NaN means "estimate it". `spare_unit_fraction` NaN
    means "the default": `beyond_reticle_spare_unit_fraction` for dies beyond the reticle
    limit, else 0.
    """

    peak_flop_per_s: FloatArray
    sram_capacity_bytes: FloatArray
    hbm_stacks: FloatArray
    hbm_capacity_bytes: FloatArray
    ddr_channels: FloatArray
    ddr_capacity_bytes: FloatArray
    link_bandwidth_byte_per_s: FloatArray
    process_node_nm: FloatArray
    dies_per_package: FloatArray
    compute_units: FloatArray
    tdp_w: FloatArray
    silicon_area_m2: FloatArray
    spare_unit_fraction: FloatArray

    @classmethod
    def from_arrays(
        cls,
        *,
        peak_flop_per_s: ArrayLike,
        sram_capacity_bytes: ArrayLike,
        process_node_nm: ArrayLike,
        tdp_w: ArrayLike,
        compute_units: ArrayLike,
        hbm_stacks: ArrayLike = 0,
        hbm_capacity_bytes: ArrayLike = 0.0,
        ddr_channels: ArrayLike = 0,
        ddr_capacity_bytes: ArrayLike = 0.0,
        link_bandwidth_byte_per_s: ArrayLike = 0.0,
        dies_per_package: ArrayLike = 1,
        silicon_area_m2: ArrayLike = np.nan,
        spare_unit_fraction: ArrayLike = np.nan,
    ) -> EconomicsInputs:
        arrays = np.broadcast_arrays(
            *(
                _as_float_array(v)
                for v in (
                    peak_flop_per_s,
                    sram_capacity_bytes,
                    hbm_stacks,
                    hbm_capacity_bytes,
                    ddr_channels,
                    ddr_capacity_bytes,
                    link_bandwidth_byte_per_s,
                    process_node_nm,
                    dies_per_package,
                    compute_units,
                    tdp_w,
                    silicon_area_m2,
                    spare_unit_fraction,
                )
            )
        )
        return cls(*(np.array(a, dtype=np.float64) for a in arrays))

    @classmethod
    def from_hardware(cls, designs: Sequence[Hardware]) -> EconomicsInputs:
        return cls.from_arrays(
            peak_flop_per_s=[reference_peak_flop_per_s(h) for h in designs],
            sram_capacity_bytes=[h.sram.capacity_bytes for h in designs],
            hbm_stacks=[h.hbm.stacks if h.hbm else 0 for h in designs],
            hbm_capacity_bytes=[h.hbm.capacity_bytes if h.hbm else 0.0 for h in designs],
            ddr_channels=[h.ddr.channels if h.ddr else 0 for h in designs],
            ddr_capacity_bytes=[h.ddr.capacity_bytes if h.ddr else 0.0 for h in designs],
            link_bandwidth_byte_per_s=[
                h.system.chip_to_chip_bandwidth_byte_per_s + h.host.link_bandwidth_byte_per_s
                for h in designs
            ],
            process_node_nm=[h.technology.process_node_nm for h in designs],
            dies_per_package=[h.technology.dies_per_package for h in designs],
            compute_units=[h.compute.compute_units for h in designs],
            tdp_w=[h.power.tdp_w for h in designs],
            silicon_area_m2=[
                np.nan if h.technology.die_area_m2 is None else h.technology.die_area_m2
                for h in designs
            ],
        )

    def __len__(self) -> int:
        return int(self.peak_flop_per_s.shape[0])

    def with_estimated_die_area(self) -> EconomicsInputs:
        """The same designs with their die areas forgotten, so the model estimates them."""
        return replace(self, silicon_area_m2=np.full_like(self.silicon_area_m2, np.nan))


def reference_peak_flop_per_s(hardware: Hardware) -> float:
    """The 16-bit dense tensor peak the economics model is calibrated on.

    NOTE: the die-area fit uses bf16/fp16 dense peaks (what hardware.csv lists for every
    fit chip). A design without 16-bit support is counted at half its 8-bit peak (an
    8-bit multiplier is about a quarter of a 16-bit one, so this is generous), or at its
    fp32/tf32 peak if that is all it has.
    """
    peaks = hardware.compute.peak_flop_per_s
    sixteen_bit = max(peaks.get("bf16", 0.0), peaks.get("fp16", 0.0))
    if sixteen_bit > 0:
        return sixteen_bit
    eight_bit = max(peaks.get("fp8", 0.0), peaks.get("int8", 0.0))
    if eight_bit > 0:
        return eight_bit / 2.0
    return max(peaks.get("tf32", 0.0), peaks.get("fp32", 0.0))


@dataclass(frozen=True, slots=True)
class ChipEconomics:
    """What one design costs to make, own and break even on. USD, SI units."""

    die_area_m2: float
    """One die: the package's silicon area / `dies_per_package`."""
    die_area_is_estimate: bool
    dies_per_package: int
    dies_per_wafer: float
    yield_fraction: float
    die_cost_usd: float
    """One good die: wafer price / (dies per wafer x yield)."""
    memory_cost_usd: float
    packaging_cost_usd: float
    nre_usd: float
    volume: int
    unit_cost_usd: float
    """Dies + memory + packaging + NRE / volume, per package."""
    tdp_w: float
    process_node: str
    is_beyond_reticle: bool
    feasible: bool
    infeasible_reasons: tuple[str, ...]
    default_years: float
    default_power_price_usd_per_kwh: float
    default_pue: float
    default_average_power_fraction: float

    @property
    def silicon_area_m2(self) -> float:
        """All dies of one package."""
        return self.die_area_m2 * self.dies_per_package

    @property
    def variable_cost_usd(self) -> float:
        """Per-package cost without NRE."""
        return self.unit_cost_usd - self.nre_usd / self.volume

    @property
    def manufacturing_cost_usd(self) -> float:
        """Making one package: good dies + memory + packaging (`variable_cost_usd`)."""
        return self.variable_cost_usd

    @property
    def nre_per_unit_usd(self) -> float:
        """NRE amortised over `volume`: `unit_cost_usd - manufacturing_cost_usd`."""
        return self.nre_usd / self.volume

    def energy_cost_usd(
        self,
        years: float | None = None,
        power_price_usd_per_kwh: float | None = None,
        pue: float | None = None,
        average_power_fraction: float | None = None,
    ) -> float:
        return float(
            lifetime_energy_cost_usd(
                self.tdp_w,
                self.default_years if years is None else years,
                (
                    self.default_power_price_usd_per_kwh
                    if power_price_usd_per_kwh is None
                    else power_price_usd_per_kwh
                ),
                self.default_pue if pue is None else pue,
                (
                    self.default_average_power_fraction
                    if average_power_fraction is None
                    else average_power_fraction
                ),
            )[0]
        )

    def tco_usd(
        self,
        years: float | None = None,
        power_price_usd_per_kwh: float | None = None,
        pue: float | None = None,
        average_power_fraction: float | None = None,
    ) -> float:
        """Unit cost plus electricity over `years` (defaults from economics.yaml)."""
        return self.unit_cost_usd + self.energy_cost_usd(
            years, power_price_usd_per_kwh, pue, average_power_fraction
        )


@dataclass(frozen=True, slots=True)
class EconomicsBatch:
    """`ChipEconomics` for a batch of designs: one array entry per design."""

    die_area_m2: FloatArray
    """One die: the package's silicon area / `dies_per_package`."""
    die_area_is_estimate: BoolArray
    dies_per_package: FloatArray
    dies_per_wafer: FloatArray
    yield_fraction: FloatArray
    die_cost_usd: FloatArray
    memory_cost_usd: FloatArray
    packaging_cost_usd: FloatArray
    nre_usd: FloatArray
    volume: FloatArray
    unit_cost_usd: FloatArray
    tdp_w: FloatArray
    node_index: IntArray
    is_beyond_reticle: BoolArray
    feasible: BoolArray
    params: EconomicsParameters

    def __len__(self) -> int:
        return int(self.die_area_m2.shape[0])

    @property
    def silicon_area_m2(self) -> FloatArray:
        """All dies of one package (`die_area_m2` is one die)."""
        result: FloatArray = self.die_area_m2 * self.dies_per_package
        return result

    @property
    def variable_cost_usd(self) -> FloatArray:
        """Per-package cost without NRE."""
        result: FloatArray = self.unit_cost_usd - self.nre_usd / self.volume
        return result

    @property
    def manufacturing_cost_usd(self) -> FloatArray:
        """Making one package: good dies + memory + packaging (`variable_cost_usd`)."""
        return self.variable_cost_usd

    @property
    def nre_per_unit_usd(self) -> FloatArray:
        """NRE amortised over `volume`, per design."""
        result: FloatArray = self.nre_usd / self.volume
        return result

    def tco_usd(
        self,
        years: float | None = None,
        power_price_usd_per_kwh: float | None = None,
        pue: float | None = None,
        average_power_fraction: float | None = None,
    ) -> FloatArray:
        """Unit cost plus electricity over `years`, per design."""
        p = self.params
        energy = lifetime_energy_cost_usd(
            self.tdp_w,
            p.default_years if years is None else years,
            p.default_power_price_usd_per_kwh
            if power_price_usd_per_kwh is None
            else power_price_usd_per_kwh,
            p.default_pue if pue is None else pue,
            p.default_average_power_fraction
            if average_power_fraction is None
            else average_power_fraction,
        )
        result: FloatArray = self.unit_cost_usd + energy
        return result

    def infeasible_reasons(self, index: int) -> tuple[str, ...]:
        if self.feasible[index]:
            return ()
        usable_mm2 = self.params.usable_wafer_area_m2 / MM2
        return (
            f"die area {self.die_area_m2[index] / MM2:.0f} mm2 exceeds the usable "
            f"{self.params.wafer_diameter_m * 1e3:.0f} mm wafer area ({usable_mm2:.0f} mm2)",
        )

    def design(self, index: int) -> ChipEconomics:
        """One design's row as a `ChipEconomics`."""
        p = self.params
        return ChipEconomics(
            die_area_m2=float(self.die_area_m2[index]),
            die_area_is_estimate=bool(self.die_area_is_estimate[index]),
            dies_per_package=int(self.dies_per_package[index]),
            dies_per_wafer=float(self.dies_per_wafer[index]),
            yield_fraction=float(self.yield_fraction[index]),
            die_cost_usd=float(self.die_cost_usd[index]),
            memory_cost_usd=float(self.memory_cost_usd[index]),
            packaging_cost_usd=float(self.packaging_cost_usd[index]),
            nre_usd=float(self.nre_usd[index]),
            volume=int(self.volume[index]),
            unit_cost_usd=float(self.unit_cost_usd[index]),
            tdp_w=float(self.tdp_w[index]),
            process_node=p.nodes[int(self.node_index[index])].name,
            is_beyond_reticle=bool(self.is_beyond_reticle[index]),
            feasible=bool(self.feasible[index]),
            infeasible_reasons=self.infeasible_reasons(index),
            default_years=p.default_years,
            default_power_price_usd_per_kwh=p.default_power_price_usd_per_kwh,
            default_pue=p.default_pue,
            default_average_power_fraction=p.default_average_power_fraction,
        )


def chip_economics_batch(
    inputs: EconomicsInputs,
    volume: ArrayLike | None = None,
    params: EconomicsParameters | None = None,
) -> EconomicsBatch:
    """Die area, yield and costs for every design in `inputs` (the array-based core).

    Infeasible designs (a die larger than the usable wafer) are data: `feasible` False,
    zero dies per wafer and infinite die and unit cost.
    """
    params = params or default_economics_parameters()
    volume_units = np.broadcast_to(
        _as_float_array(params.default_volume if volume is None else volume), (len(inputs),)
    ).astype(np.float64)
    if np.any(volume_units < 1):
        raise ConfigError(Problem(params.source, "volume", "volume must be at least 1 unit"))
    nodes = node_class_index(inputs.process_node_nm, params)
    node_table = params.nodes

    estimated = estimate_die_area_m2(
        inputs.peak_flop_per_s,
        inputs.sram_capacity_bytes,
        inputs.hbm_stacks,
        inputs.ddr_channels,
        inputs.link_bandwidth_byte_per_s,
        inputs.process_node_nm,
        inputs.dies_per_package,
        params,
    )
    is_estimate = np.isnan(inputs.silicon_area_m2)
    die_area = np.where(is_estimate, estimated, inputs.silicon_area_m2 / inputs.dies_per_package)

    per_wafer = dies_per_wafer(die_area, params)
    beyond_reticle = die_area > params.reticle_limit_m2
    spare_fraction = np.where(
        np.isnan(inputs.spare_unit_fraction),
        np.where(beyond_reticle, params.beyond_reticle_spare_unit_fraction, 0.0),
        inputs.spare_unit_fraction,
    )
    units_per_die = inputs.compute_units / inputs.dies_per_package
    spares = np.floor(units_per_die * spare_fraction)
    defect_density = np.array([n.defect_density_per_m2 for n in node_table])[nodes]
    yields = yield_fraction(die_area, defect_density, spares, params.cluster_alpha)

    wafer_price = np.array([n.wafer_price_usd for n in node_table])[nodes]
    feasible = per_wafer >= 1.0
    with np.errstate(divide="ignore"):
        die_cost = np.where(feasible, wafer_price / (per_wafer * yields), np.inf)

    memory_cost = (
        inputs.hbm_capacity_bytes * params.hbm_price_usd_per_byte
        + inputs.ddr_capacity_bytes * params.ddr_price_usd_per_byte
    )
    # NOTE: a design with HBM sits on a CoWoS-class interposer priced per area of silicon
    # on it ([C045]); so does a beyond-reticle part (wafer-scale packaging is custom; the
    # interposer rate is the closest published per-area figure). Everything else pays
    # assembly and test only ([C045]), which includes the organic substrate.
    interposer_area = die_area * inputs.dies_per_package + inputs.hbm_stacks * (
        params.hbm_footprint_m2
    )
    needs_interposer = (inputs.hbm_stacks > 0) | beyond_reticle
    packaging_cost = params.assembly_and_test_usd + np.where(
        needs_interposer, interposer_area * params.interposer_usd_per_m2, 0.0
    )
    nre = np.array([n.design_cost_usd for n in node_table])[nodes]
    unit_cost = (
        die_cost * inputs.dies_per_package + memory_cost + packaging_cost + nre / volume_units
    )
    return EconomicsBatch(
        die_area_m2=die_area,
        die_area_is_estimate=is_estimate,
        dies_per_package=inputs.dies_per_package,
        dies_per_wafer=per_wafer,
        yield_fraction=yields,
        die_cost_usd=die_cost,
        memory_cost_usd=memory_cost,
        packaging_cost_usd=packaging_cost,
        nre_usd=nre,
        volume=volume_units,
        unit_cost_usd=unit_cost,
        tdp_w=inputs.tdp_w,
        node_index=nodes,
        is_beyond_reticle=beyond_reticle,
        feasible=feasible,
        params=params,
    )


def chip_economics(
    hardware: Hardware,
    volume: int | None = None,
    params: EconomicsParameters | None = None,
    *,
    estimate_die_area: bool = False,
) -> ChipEconomics:
    """Economics of one design. Uses its spec die area unless it has none (or
    `estimate_die_area` is set), in which case the area is estimated."""
    inputs = EconomicsInputs.from_hardware([hardware])
    if estimate_die_area:
        inputs = inputs.with_estimated_die_area()
    return chip_economics_batch(inputs, volume, params).design(0)


# ---------------------------------------------------------------------------------------
# Break-even volume and the essay's arithmetic.
# ---------------------------------------------------------------------------------------


def break_even_volume(
    nre_usd: ArrayLike,
    variable_cost_usd: ArrayLike,
    reference_price_usd: ArrayLike,
    performance_ratio: ArrayLike = 1.0,
    own_energy_cost_usd: ArrayLike = 0.0,
    reference_energy_cost_usd: ArrayLike = 0.0,
) -> FloatArray:
    """Units of a new chip needed before designing it beats buying an existing one.

    Designing V chips costs NRE + V x (variable cost + own energy); buying the same
    capability costs V x performance_ratio x (reference price + reference energy), where
    performance_ratio is how many reference chips one new chip replaces. V = NRE / margin;
    infinite when the new chip never recovers its NRE (margin <= 0). With zero variable
    cost and energy and a ratio of 1 it is the essay's NRE / card price.
    """
    margin = _as_float_array(performance_ratio) * (
        _as_float_array(reference_price_usd) + _as_float_array(reference_energy_cost_usd)
    ) - (_as_float_array(variable_cost_usd) + _as_float_array(own_energy_cost_usd))
    nre = _as_float_array(nre_usd)
    with np.errstate(divide="ignore"):
        result: FloatArray = np.where(margin > 0, nre / np.where(margin > 0, margin, 1.0), np.inf)
    return result


@dataclass(frozen=True, slots=True)
class EssayArithmetic:
    """The essay's point 6, recomputed from its inputs."""

    design_cost_range_usd: tuple[float, float]
    normalised_design_cost_usd: float
    node_nm: float
    ibs_design_cost_usd: float
    """What the IBS curve says for the same node, before normalisation."""
    card_price_usd: float
    server_price_usd: float
    gpus_per_server: int
    equivalent_cards: float
    equivalent_servers: float
    equivalent_server_gpus: float


def essay_arithmetic(params: EconomicsParameters | None = None) -> EssayArithmetic:
    """$150M of 7 nm NRE buys 15,000 A100 cards at $10k, or 750 servers at $200k."""
    params = params or default_economics_parameters()
    node = params.node(params.essay_node_nm)
    nre = node.design_cost_usd
    servers = nre / params.essay_server_price_usd
    return EssayArithmetic(
        design_cost_range_usd=params.essay_design_cost_range_usd,
        normalised_design_cost_usd=nre,
        node_nm=params.essay_node_nm,
        ibs_design_cost_usd=nre / params.nre_scale,
        card_price_usd=params.essay_card_price_usd,
        server_price_usd=params.essay_server_price_usd,
        gpus_per_server=params.essay_gpus_per_server,
        equivalent_cards=float(break_even_volume(nre, 0.0, params.essay_card_price_usd)[0]),
        equivalent_servers=servers,
        equivalent_server_gpus=servers * params.essay_gpus_per_server,
    )


@dataclass(frozen=True, slots=True)
class DesignEconomicsReport:
    """One design's economics over a period, and its break-even against buying a chip."""

    design: str
    economics: ChipEconomics
    estimated_die_area_m2: float
    """The model's estimate, shown beside a spec die area when the design has one."""
    years: float
    power_price_usd_per_kwh: float
    pue: float
    energy_cost_usd: float
    tco_usd: float
    versus: PurchaseReference
    performance_ratio: float
    """Reference chips one design replaces, by 16-bit dense peak FLOP/s."""
    break_even_volume_simple: float
    """NRE / (reference price - variable cost): the essay's form, like for like."""
    break_even_volume_tco: float
    """NRE / margin over `years`, per unit of peak performance, electricity included."""


def design_economics_report(
    hardware: Hardware,
    versus: PurchaseReference,
    *,
    volume: int | None = None,
    years: float | None = None,
    power_price_usd_per_kwh: float | None = None,
    pue: float | None = None,
    params: EconomicsParameters | None = None,
) -> DesignEconomicsReport:
    """Everything `dse economics --hardware` prints; `versus` needs a peak and a TDP."""
    params = params or default_economics_parameters()
    if versus.peak_flop_per_s is None or versus.tdp_w is None:
        raise ConfigError(
            Problem(
                params.source,
                f"purchase_reference.{versus.name}",
                "a break-even reference needs peak_16bit_tflops and tdp_w",
            )
        )
    years = params.default_years if years is None else years
    price = (
        params.default_power_price_usd_per_kwh
        if power_price_usd_per_kwh is None
        else power_price_usd_per_kwh
    )
    pue = params.default_pue if pue is None else pue
    fraction = params.default_average_power_fraction

    inputs = EconomicsInputs.from_hardware([hardware])
    economics = chip_economics_batch(inputs, volume, params).design(0)
    estimated = chip_economics_batch(inputs.with_estimated_die_area(), volume, params)
    energy = economics.energy_cost_usd(years, price, pue, fraction)
    reference_energy = float(lifetime_energy_cost_usd(versus.tdp_w, years, price, pue, fraction)[0])
    ratio = reference_peak_flop_per_s(hardware) / versus.peak_flop_per_s
    simple = break_even_volume(economics.nre_usd, economics.variable_cost_usd, versus.price_usd)
    with_tco = break_even_volume(
        economics.nre_usd,
        economics.variable_cost_usd,
        versus.price_usd,
        performance_ratio=ratio,
        own_energy_cost_usd=energy,
        reference_energy_cost_usd=reference_energy,
    )
    return DesignEconomicsReport(
        design=hardware.name,
        economics=economics,
        estimated_die_area_m2=float(estimated.die_area_m2[0]),
        years=years,
        power_price_usd_per_kwh=price,
        pue=pue,
        energy_cost_usd=energy,
        tco_usd=economics.unit_cost_usd + energy,
        versus=versus,
        performance_ratio=ratio,
        break_even_volume_simple=float(simple[0]),
        break_even_volume_tco=float(with_tco[0]),
    )


# ---------------------------------------------------------------------------------------
# Validation of the die-area estimate against real chips.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DieAreaCheck:
    chip: str
    used_in_fit: bool
    spec_die_area_m2: float
    estimated_die_area_m2: float
    leave_one_out_die_area_m2: float | None
    """For a fit chip: the estimate when the chip is left out of its node's fit (None when
    it is the node's only fit chip). For a held-out chip: the same as the estimate."""

    @property
    def relative_error(self) -> float:
        return self.estimated_die_area_m2 / self.spec_die_area_m2 - 1.0

    @property
    def leave_one_out_relative_error(self) -> float | None:
        if self.leave_one_out_die_area_m2 is None:
            return None
        return self.leave_one_out_die_area_m2 / self.spec_die_area_m2 - 1.0


def die_area_checks(params: EconomicsParameters | None = None) -> tuple[DieAreaCheck, ...]:
    """Estimated vs published die area for every calibration chip (fit and held out),
    with leave-one-out estimates for fit chips that share their node with another."""
    params = params or default_economics_parameters()
    chips = params.calibration_chips
    flops = np.array([c.peak_flop_per_s for c in chips])
    nodes = node_class_index([c.process_node_nm for c in chips], params)
    non_logic_m2 = estimate_die_area_m2(
        0.0,
        [c.sram_capacity_bytes for c in chips],
        [c.hbm_stacks for c in chips],
        [c.ddr_channels for c in chips],
        [c.link_bandwidth_byte_per_s for c in chips],
        [c.process_node_nm for c in chips],
        1,
        params,
    )
    logic_per_flop = np.array([n.logic_area_m2_per_flop_per_s for n in params.nodes])[nodes]
    estimated = non_logic_m2 + flops * logic_per_flop
    spec = np.array([c.die_area_m2 for c in chips])
    fit = np.array([c.use_in_fit for c in chips])
    log_fitted = np.log(np.maximum(spec - non_logic_m2, 1e-30) / flops)

    checks = []
    for index, chip in enumerate(chips):
        loo: float | None = float(estimated[index])
        if chip.use_in_fit:
            others = fit & (nodes == nodes[index]) & (np.arange(len(chips)) != index)
            loo = None
            if np.any(others):
                loo_per_flop = float(np.exp(log_fitted[others].mean()))
                loo = float(non_logic_m2[index] + flops[index] * loo_per_flop)
        checks.append(
            DieAreaCheck(chip.chip, chip.use_in_fit, chip.die_area_m2, float(estimated[index]), loo)
        )
    return tuple(checks)
