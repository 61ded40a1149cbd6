"""Hardware YAML <-> `dse.hardware.Hardware`.

The file format (documented in docs/hardware-format.md, canonical example
`presets/nvidia-h100-sxm.yaml`) carries a unit in every key; values are converted to SI
exactly once, here. `hardware_to_dict` writes the same form back, so a `Hardware` can be
saved, edited and reloaded, and search spaces can make variants of a preset as dicts.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dse import units
from dse.config._problems import closest, problems_from_validation_error
from dse.config._types import Count, Flag, Number
from dse.config._yaml import read_yaml_mapping
from dse.errors import ConfigError, Problem
from dse.hardware import (
    PRECISIONS,
    ComputeSpec,
    DdrSpec,
    Hardware,
    HbmSpec,
    HostSpec,
    PowerSpec,
    ReconfigSpec,
    SramSpec,
    SystemSpec,
    TechnologySpec,
)

Precision = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8"]
EnergyLevel = Literal["sram", "hbm", "ddr", "host_link", "interconnect"]

assert set(get_args(Precision)) == set(PRECISIONS), "keep Precision in step with dse.hardware"

PRESETS_PACKAGE = "dse.config.presets"

# NOTE: floats go through `finite_number` checks (allow_inf_nan=False): an `.inf`
# bandwidth in a YAML file is a typo, never a design. Numbers are `Number`/`Count`
# (dse.config._types): `true` or `'700'` where a number belongs is refused, not coerced.
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

# NOTE: upper bounds are "physically absurd", not "unusual": each sits one to three
# orders of magnitude above the largest shipping part we know of, so a unit slip
# (MiB written as bytes, MHz as Hz) is refused loudly while any real or hypothetical
# design still fits. Largest known figures: Cerebras WSE-3 (900,000 cores, 44 GB of
# SRAM at 21 PB/s, 46,225 mm2, 4 trillion transistors, ~23 kW per system; Cerebras
# product brief 2024); NVIDIA B200 (~4.5 PFLOP/s dense fp8, 8 TB/s HBM3e, 8 stacks;
# NVIDIA Blackwell datasheet 2024).
Peak = Annotated[Number, Field(gt=0, le=1e6)]  # TFLOP/s: 1 EFLOP/s per chip
FlopEnergyPj = Annotated[Number, Field(gt=0, le=1e6)]  # pJ per FLOP
EnergyPj = Annotated[Number, Field(ge=0, le=1e6)]  # pJ per byte
LatencyUs = Annotated[Number, Field(ge=0, le=1e6)]  # up to one second
TileSize = Annotated[Count, Field(gt=0, le=65_536)]


class _Section(BaseModel):
    model_config = _STRICT


class ComputeSection(_Section):
    peak_dense_tflops: dict[Precision, Peak] = Field(min_length=1)
    clock_mhz: Number = Field(gt=0, le=100_000)
    compute_units: Count = Field(gt=0, le=10_000_000)
    tile_m: TileSize = 128
    tile_n: TileSize = 128
    tile_k: TileSize = 64
    alignment_bytes: Count = Field(default=16, gt=0, le=1 << 20)


class SramSection(_Section):
    capacity_mib: Number = Field(gt=0, le=1_000_000)
    bandwidth_tbyte_s: Number = Field(gt=0, le=1_000_000)
    management: Literal["scratchpad", "cache"] = "cache"
    exchange_overlaps_compute: Flag = True
    exchange_bandwidth_tbyte_s: Number | None = Field(default=None, gt=0, le=1_000_000)


class HbmSection(_Section):
    stacks: Count = Field(gt=0, le=64)
    capacity_gib: Number = Field(gt=0, le=100_000)
    bandwidth_tbyte_s: Number = Field(gt=0, le=10_000)


class DdrSection(_Section):
    channels: Count = Field(gt=0, le=1024)
    capacity_gib: Number = Field(gt=0, le=1_000_000)
    bandwidth_gbyte_s: Number = Field(gt=0, le=1_000_000)


class HostSection(_Section):
    link_bandwidth_gbyte_s: Number = Field(gt=0, le=100_000)
    link_latency_us: LatencyUs
    kernel_launch_us: LatencyUs
    sync_roundtrip_us: LatencyUs
    async_launch: Flag = True
    graph_capture: Flag = False
    graph_launch_per_op_us: LatencyUs = 0.0
    device_scalar_control: Flag = False
    pageable_bandwidth_fraction: Number | None = Field(default=None, gt=0, le=1)


class ReconfigSection(_Section):
    spatial_fusion: Flag = False
    reconfiguration_ms: Number = Field(default=0.0, ge=0, le=1_000_000)


class PowerSection(_Section):
    tdp_w: Number = Field(gt=0, le=1_000_000)
    idle_w: Number | None = Field(default=None, ge=0, le=1_000_000)
    energy_per_flop_pj: dict[Precision, FlopEnergyPj] = Field(default_factory=dict)
    energy_per_byte_pj: dict[EnergyLevel, EnergyPj] = Field(default_factory=dict)
    min_clock_fraction: Number = Field(default=0.3, gt=0, le=1)


class TechnologySection(_Section):
    process_node_nm: Number = Field(gt=0, le=1000)
    die_area_mm2: Number | None = Field(default=None, gt=0, le=1_000_000)
    transistors_billion: Number | None = Field(default=None, gt=0, le=100_000)
    dies_per_package: Count = Field(default=1, gt=0, le=1024)


class SystemSection(_Section):
    chips_per_node: Count = Field(default=1, gt=0, le=1_000_000)
    nodes: Count = Field(default=1, gt=0, le=1_000_000)
    chip_to_chip_bandwidth_gbyte_s: Number = Field(default=0.0, ge=0, le=1_000_000)
    chip_to_chip_latency_us: LatencyUs = 0.0
    node_to_node_bandwidth_gbyte_s: Number = Field(default=0.0, ge=0, le=1_000_000)
    node_to_node_latency_us: LatencyUs = 0.0


class HardwareFile(_Section):
    """The whole hardware YAML document."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    compute: ComputeSection
    sram: SramSection
    hbm: HbmSection | None = None
    ddr: DdrSection | None = None
    host: HostSection
    reconfig: ReconfigSection = Field(default_factory=ReconfigSection)
    power: PowerSection
    technology: TechnologySection
    system: SystemSection = Field(default_factory=SystemSection)


def _cross_field_problems(doc: HardwareFile, source: str) -> list[Problem]:
    """Checks a single field cannot make: values that must agree with each other.

    NOTE: kept to physical impossibilities only. Settings that are merely unused (a
    reconfiguration time with spatial fusion off, a graph launch cost without graph
    capture) are allowed, because search spaces toggle one switch of a preset at a time.
    """
    problems: list[Problem] = []
    if doc.power.idle_w is not None and doc.power.idle_w >= doc.power.tdp_w:
        problems.append(
            Problem(
                source,
                "power.idle_w",
                f"must be < power.tdp_w ({doc.power.tdp_w:g}), got {doc.power.idle_w:g}",
            )
        )
    return problems


def _decimal_scaled(value: float, power_of_ten: int) -> float:
    """`value * 10**power_of_ten`, correctly rounded (66.9 TFLOP/s -> 66.9e12, not 66.9e12 + 0.01).

    NOTE: plain float multiplication adds a last-bit error to many spec-sheet figures; going
    through Decimal keeps `load -> to_dict -> load` exact and `bf16 == 989.4e12` true.
    """
    return float(Decimal(repr(float(value))).scaleb(power_of_ten))


def _to_hardware(doc: HardwareFile) -> Hardware:
    c, s, h, p, t, y = doc.compute, doc.sram, doc.host, doc.power, doc.technology, doc.system
    return Hardware(
        name=doc.name,
        description=doc.description,
        compute=ComputeSpec(
            # NOTE: keyed in PRECISIONS order (widest first) whatever order the file used,
            # so two equal designs compare and hash the same.
            peak_flop_per_s={
                precision: _decimal_scaled(c.peak_dense_tflops[precision], 12)  # type: ignore[index]
                for precision in PRECISIONS
                if precision in c.peak_dense_tflops
            },
            clock_hz=_decimal_scaled(c.clock_mhz, 6),
            compute_units=c.compute_units,
            tile_m=c.tile_m,
            tile_n=c.tile_n,
            tile_k=c.tile_k,
            alignment_bytes=c.alignment_bytes,
        ),
        sram=SramSpec(
            capacity_bytes=s.capacity_mib * units.MIB,
            bandwidth_byte_per_s=_decimal_scaled(s.bandwidth_tbyte_s, 12),
            management=s.management,
            exchange_overlaps_compute=s.exchange_overlaps_compute,
            exchange_bandwidth_byte_per_s=None if s.exchange_bandwidth_tbyte_s is None
            else _decimal_scaled(s.exchange_bandwidth_tbyte_s, 12),
        ),
        hbm=None
        if doc.hbm is None
        else HbmSpec(
            stacks=doc.hbm.stacks,
            capacity_bytes=doc.hbm.capacity_gib * units.GIB,
            bandwidth_byte_per_s=_decimal_scaled(doc.hbm.bandwidth_tbyte_s, 12),
        ),
        ddr=None
        if doc.ddr is None
        else DdrSpec(
            channels=doc.ddr.channels,
            capacity_bytes=doc.ddr.capacity_gib * units.GIB,
            bandwidth_byte_per_s=_decimal_scaled(doc.ddr.bandwidth_gbyte_s, 9),
        ),
        host=HostSpec(
            link_bandwidth_byte_per_s=_decimal_scaled(h.link_bandwidth_gbyte_s, 9),
            link_latency_s=_decimal_scaled(h.link_latency_us, -6),
            kernel_launch_s=_decimal_scaled(h.kernel_launch_us, -6),
            sync_roundtrip_s=_decimal_scaled(h.sync_roundtrip_us, -6),
            async_launch=h.async_launch,
            graph_capture=h.graph_capture,
            graph_launch_per_op_s=_decimal_scaled(h.graph_launch_per_op_us, -6),
            device_scalar_control=h.device_scalar_control,
            pageable_bandwidth_fraction=h.pageable_bandwidth_fraction,
        ),
        reconfig=ReconfigSpec(
            spatial_fusion=doc.reconfig.spatial_fusion,
            reconfiguration_s=_decimal_scaled(doc.reconfig.reconfiguration_ms, -3),
        ),
        power=PowerSpec(
            tdp_w=p.tdp_w,
            idle_w=p.idle_w,
            energy_per_flop_j={k: _decimal_scaled(v, -12) for k, v in p.energy_per_flop_pj.items()},
            energy_per_byte_j={k: _decimal_scaled(v, -12) for k, v in p.energy_per_byte_pj.items()},
            min_clock_fraction=p.min_clock_fraction,
        ),
        technology=TechnologySpec(
            process_node_nm=t.process_node_nm,
            die_area_m2=None if t.die_area_mm2 is None else _decimal_scaled(t.die_area_mm2, -6),
            transistor_count=None
            if t.transistors_billion is None
            else _decimal_scaled(t.transistors_billion, 9),
            dies_per_package=t.dies_per_package,
        ),
        system=SystemSpec(
            chips_per_node=y.chips_per_node,
            nodes=y.nodes,
            chip_to_chip_bandwidth_byte_per_s=_decimal_scaled(y.chip_to_chip_bandwidth_gbyte_s, 9),
            chip_to_chip_latency_s=_decimal_scaled(y.chip_to_chip_latency_us, -6),
            node_to_node_bandwidth_byte_per_s=_decimal_scaled(y.node_to_node_bandwidth_gbyte_s, 9),
            node_to_node_latency_s=_decimal_scaled(y.node_to_node_latency_us, -6),
        ),
    )


def hardware_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Hardware:
    """Validate a hardware document (the YAML form, units in keys) and convert it to SI.

    Raises ConfigError listing every problem, each with `source` and its key path.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            Problem(source, "", f"must be a mapping (key: value), got {type(data).__name__}")
        )
    try:
        doc = HardwareFile.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc, source, model=HardwareFile)) from None
    problems = _cross_field_problems(doc, source)
    if problems:
        raise ConfigError(problems)
    return _to_hardware(doc)


def _clean(value: float) -> float | int:
    """Undo float noise from unit conversion (989.4e12 / 1e12 -> 989.4); ints stay ints."""
    rounded = float(f"{value:.12g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded


def hardware_to_dict(hardware: Hardware) -> dict[str, Any]:
    """The YAML form of `hardware` (units in keys); `hardware_from_dict` reads it back."""
    hw = hardware
    c, s, h, p, t, y = hw.compute, hw.sram, hw.host, hw.power, hw.technology, hw.system
    power: dict[str, Any] = {"tdp_w": _clean(p.tdp_w)}
    if p.idle_w is not None:
        power["idle_w"] = _clean(p.idle_w)
    if p.energy_per_flop_j:
        power["energy_per_flop_pj"] = {
            k: _clean(_decimal_scaled(v, 12)) for k, v in p.energy_per_flop_j.items()
        }
    if p.energy_per_byte_j:
        power["energy_per_byte_pj"] = {
            k: _clean(_decimal_scaled(v, 12)) for k, v in p.energy_per_byte_j.items()
        }
    power["min_clock_fraction"] = _clean(p.min_clock_fraction)
    technology: dict[str, Any] = {"process_node_nm": _clean(t.process_node_nm)}
    if t.die_area_m2 is not None:
        technology["die_area_mm2"] = _clean(_decimal_scaled(t.die_area_m2, 6))
    if t.transistor_count is not None:
        technology["transistors_billion"] = _clean(_decimal_scaled(t.transistor_count, -9))
    technology["dies_per_package"] = t.dies_per_package
    return {
        "name": hw.name,
        "description": hw.description,
        "compute": {
            "peak_dense_tflops": {
                k: _clean(_decimal_scaled(v, -12)) for k, v in c.peak_flop_per_s.items()
            },
            "clock_mhz": _clean(_decimal_scaled(c.clock_hz, -6)),
            "compute_units": c.compute_units,
            "tile_m": c.tile_m,
            "tile_n": c.tile_n,
            "tile_k": c.tile_k,
            "alignment_bytes": c.alignment_bytes,
        },
        "sram": {
            "capacity_mib": _clean(s.capacity_bytes / units.MIB),
            "bandwidth_tbyte_s": _clean(_decimal_scaled(s.bandwidth_byte_per_s, -12)),
            "management": s.management,
            "exchange_overlaps_compute": s.exchange_overlaps_compute,
            "exchange_bandwidth_tbyte_s": None if s.exchange_bandwidth_byte_per_s is None
            else _clean(_decimal_scaled(s.exchange_bandwidth_byte_per_s, -12)),
        },
        "hbm": None
        if hw.hbm is None
        else {
            "stacks": hw.hbm.stacks,
            "capacity_gib": _clean(hw.hbm.capacity_bytes / units.GIB),
            "bandwidth_tbyte_s": _clean(_decimal_scaled(hw.hbm.bandwidth_byte_per_s, -12)),
        },
        "ddr": None
        if hw.ddr is None
        else {
            "channels": hw.ddr.channels,
            "capacity_gib": _clean(hw.ddr.capacity_bytes / units.GIB),
            "bandwidth_gbyte_s": _clean(_decimal_scaled(hw.ddr.bandwidth_byte_per_s, -9)),
        },
        "host": {
            "link_bandwidth_gbyte_s": _clean(_decimal_scaled(h.link_bandwidth_byte_per_s, -9)),
            "link_latency_us": _clean(_decimal_scaled(h.link_latency_s, 6)),
            "kernel_launch_us": _clean(_decimal_scaled(h.kernel_launch_s, 6)),
            "sync_roundtrip_us": _clean(_decimal_scaled(h.sync_roundtrip_s, 6)),
            "async_launch": h.async_launch,
            "graph_capture": h.graph_capture,
            "graph_launch_per_op_us": _clean(_decimal_scaled(h.graph_launch_per_op_s, 6)),
            "device_scalar_control": h.device_scalar_control,
            # unset (the calibration's share) stays unset in the written file
            **({} if h.pageable_bandwidth_fraction is None else
               {"pageable_bandwidth_fraction": _clean(h.pageable_bandwidth_fraction)}),
        },
        "reconfig": {
            "spatial_fusion": hw.reconfig.spatial_fusion,
            "reconfiguration_ms": _clean(_decimal_scaled(hw.reconfig.reconfiguration_s, 3)),
        },
        "power": power,
        "technology": technology,
        "system": {
            "chips_per_node": y.chips_per_node,
            "nodes": y.nodes,
            "chip_to_chip_bandwidth_gbyte_s": _clean(
                _decimal_scaled(y.chip_to_chip_bandwidth_byte_per_s, -9)
            ),
            "chip_to_chip_latency_us": _clean(_decimal_scaled(y.chip_to_chip_latency_s, 6)),
            "node_to_node_bandwidth_gbyte_s": _clean(
                _decimal_scaled(y.node_to_node_bandwidth_byte_per_s, -9)
            ),
            "node_to_node_latency_us": _clean(_decimal_scaled(y.node_to_node_latency_s, 6)),
        },
    }


def _presets_dir() -> Path:
    return Path(str(importlib.resources.files(PRESETS_PACKAGE)))


def list_presets() -> list[str]:
    """Names of the shipped hardware presets, sorted."""
    return sorted(path.stem for path in _presets_dir().glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The YAML file of preset `name` (ConfigError listing the available names if unknown)."""
    path = _presets_dir() / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(list_presets())
        close = closest(name, list_presets())
        hint = f"did you mean {close!r}? " if close else ""
        raise ConfigError(
            Problem(name, "", f"unknown hardware preset; {hint}available: {available}"))
    return path


def _looks_like_path(name_or_path: str) -> bool:
    return (
        name_or_path.endswith((".yaml", ".yml"))
        or "/" in name_or_path
        or "\\" in name_or_path
        or Path(name_or_path).is_file()
    )


def load_hardware(name_or_path: str | Path) -> Hardware:
    """A preset by name (`nvidia-h100-sxm`) or a hardware YAML file by path."""
    text = str(name_or_path)
    path = Path(text) if isinstance(name_or_path, Path) or _looks_like_path(text) else None
    if path is None:
        path = preset_path(text)
    return hardware_from_dict(read_yaml_mapping(path), source=str(path))
