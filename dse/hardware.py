"""Frozen descriptions of one accelerator and the system it sits in.

All fields are SI base units (bytes, seconds, FLOP/s, bytes/s, watts, joules, hertz,
square metres) and carry their unit in their name. YAML files use friendlier units
(`sram_capacity_mib`, `hbm_bandwidth_tbyte_s`); `dse.config` converts them once at
load. These classes never import from `dse.config`.

A missing memory level is `None`; a missing precision is absent from
`ComputeSpec.peak_flop_per_s` and means "unsupported".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

PRECISIONS: tuple[str, ...] = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")
"""Every precision dse knows, widest first."""

ELEMENT_BYTES: Mapping[str, int] = {
    "fp32": 4,
    "tf32": 4,  # stored as fp32, multiplied on tensor units at reduced mantissa
    "bf16": 2,
    "fp16": 2,
    "fp8": 1,
    "int8": 1,
}

SramManagement = Literal["scratchpad", "cache"]


@dataclass(frozen=True, slots=True)
class ComputeSpec:
    """Peak arithmetic and what limits achieved throughput on awkward shapes."""

    peak_flop_per_s: Mapping[str, float]
    """Dense peak per precision at `clock_hz` (no structured sparsity)."""
    clock_hz: float
    """Boost clock at which the peaks are quoted."""
    compute_units: int
    """Independent units that take tiles of work (SMs, cores, PCUs, tiles)."""
    tile_m: int = 128
    tile_n: int = 128
    tile_k: int = 64
    """Output tile one unit computes at a time; sets wave and tile quantisation."""
    alignment_bytes: int = 16
    """Matrix leading dimensions must be multiples of this many bytes for the fast path."""


@dataclass(frozen=True, slots=True)
class SramSpec:
    """On-chip SRAM, summed over the chip."""

    capacity_bytes: float
    bandwidth_byte_per_s: float
    management: SramManagement = "cache"
    """`scratchpad`: software places data (Cerebras, Graphcore, SambaNova).
    `cache`: hardware decides what stays (GPU L2)."""
    exchange_overlaps_compute: bool = True
    """Moving operands through on-chip memory overlaps arithmetic. False for
    bulk-synchronous designs whose compute and exchange phases alternate (Graphcore IPU)."""
    exchange_bandwidth_byte_per_s: float | None = None
    """Bandwidth of the fabric that moves operands between compute units when an operator
    is tiled over them (Graphcore's IPU-Exchange); None: `bandwidth_byte_per_s`."""


@dataclass(frozen=True, slots=True)
class HbmSpec:
    """Stacked high-bandwidth memory on the package."""

    stacks: int
    capacity_bytes: float
    bandwidth_byte_per_s: float


@dataclass(frozen=True, slots=True)
class DdrSpec:
    """Near-device DDR (on the card or in an attached memory appliance)."""

    channels: int
    capacity_bytes: float
    bandwidth_byte_per_s: float


@dataclass(frozen=True, slots=True)
class HostSpec:
    """How the device talks to its host CPU."""

    link_bandwidth_byte_per_s: float
    """Per direction, pinned host memory (e.g. PCIe Gen5 x16: 64 GB/s)."""
    link_latency_s: float
    """Fixed cost of one host<->device copy, before bytes flow."""
    kernel_launch_s: float
    """Host time to issue one operator (eager launch)."""
    sync_roundtrip_s: float
    """A blocking host/device synchronisation: launch, wait, return."""
    async_launch: bool = True
    """Host can run ahead of the device; launch cost hides behind device work."""
    graph_capture: bool = False
    """Whole programs can be captured and replayed (CUDA graphs, XLA, poplar)."""
    graph_launch_per_op_s: float = 0.0
    """Device-side cost per operator when replayed from a captured graph."""
    device_scalar_control: bool = False
    """Device runs scalar control code itself (the "CPU-less" design): data-dependent
    control flow needs no host round trip."""
    pageable_bandwidth_fraction: float | None = None
    """Share of link bandwidth reached from pageable (unpinned) host memory; None: the
    calibration's fitted share (`Calibration.pageable_bandwidth_fraction`)."""


@dataclass(frozen=True, slots=True)
class ReconfigSpec:
    """Reconfigurable dataflow: fuse chains of operators spatially on the fabric."""

    spatial_fusion: bool = False
    """Chains of operators stream through the fabric without touching off-chip memory."""
    reconfiguration_s: float = 0.0
    """Time to load a new configuration (paid when the program changes kind)."""


@dataclass(frozen=True, slots=True)
class PowerSpec:
    """Power envelope and energy per operation."""

    tdp_w: float
    idle_w: float | None = None
    """None: derived by the calibration layer from TDP."""
    energy_per_flop_j: Mapping[str, float] = field(default_factory=dict)
    """Per precision at the boost clock. Missing: derived by the calibration layer."""
    energy_per_byte_j: Mapping[str, float] = field(default_factory=dict)
    """Per memory level (`sram`, `hbm`, `ddr`, `host_link`, `interconnect`)."""
    min_clock_fraction: float = 0.3
    """Lowest clock (as a fraction of boost) the power manager will drop to."""


@dataclass(frozen=True, slots=True)
class TechnologySpec:
    process_node_nm: float
    """Marketing node name as a number (7 for N7, 4 for 4N)."""
    die_area_m2: float | None = None
    transistor_count: float | None = None
    dies_per_package: int = 1


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """How chips are put together. A single chip is `chips_per_node=1, nodes=1`."""

    chips_per_node: int = 1
    nodes: int = 1
    chip_to_chip_bandwidth_byte_per_s: float = 0.0
    """Per chip, per direction, inside a node (NVLink, ICI, IPU-Link)."""
    chip_to_chip_latency_s: float = 0.0
    node_to_node_bandwidth_byte_per_s: float = 0.0
    """Per chip, per direction, between nodes (InfiniBand, Ethernet)."""
    node_to_node_latency_s: float = 0.0

    @property
    def chips(self) -> int:
        return self.chips_per_node * self.nodes


@dataclass(frozen=True, slots=True)
class Hardware:
    """One accelerator design and, optionally, the system it sits in."""

    name: str
    compute: ComputeSpec
    sram: SramSpec
    host: HostSpec
    power: PowerSpec
    technology: TechnologySpec
    hbm: HbmSpec | None = None
    ddr: DdrSpec | None = None
    reconfig: ReconfigSpec = field(default_factory=ReconfigSpec)
    system: SystemSpec = field(default_factory=SystemSpec)
    description: str = ""

    def supports(self, precision: str) -> bool:
        return precision in self.compute.peak_flop_per_s

    @property
    def offchip_capacity_bytes(self) -> float:
        return (self.hbm.capacity_bytes if self.hbm else 0.0) + (
            self.ddr.capacity_bytes if self.ddr else 0.0
        )

    def with_changes(self, **changes: object) -> Hardware:
        """A copy with top-level sections replaced (`hbm=HbmSpec(...)`)."""
        return replace(self, **changes)  # type: ignore[arg-type]
