"""A batch of designs as numpy arrays: the form the cost core computes on.

`DesignArrays.from_hardware([hw, ...])` stacks frozen `Hardware` objects into one array
per field (shape `(D,)`, or `(D, P)` per precision). Absent memory levels get zero
capacity and bandwidth; unsupported precisions get zero peak. Defaults the presets leave
open (idle power, energies) are filled from the calibration layer here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dse.core.calibration import Calibration, calibration_in_use
from dse.hardware import PRECISIONS, Hardware

FloatArray = np.ndarray

PRECISION_INDEX = {p: i for i, p in enumerate(PRECISIONS)}


@dataclass(frozen=True, slots=True)
class DesignArrays:
    names: tuple[str, ...]
    peak_flop_per_s: FloatArray  # (D, P); 0 = unsupported
    clock_hz: FloatArray
    compute_units: FloatArray
    tile_m: FloatArray
    tile_n: FloatArray
    tile_k: FloatArray
    alignment_bytes: FloatArray
    sram_capacity_bytes: FloatArray
    sram_usable_bytes: FloatArray
    sram_bandwidth_byte_per_s: FloatArray
    sram_is_scratchpad: np.ndarray  # bool
    exchange_overlaps_compute: np.ndarray  # bool
    exchange_bandwidth_byte_per_s: FloatArray
    hbm_capacity_bytes: FloatArray
    hbm_bandwidth_byte_per_s: FloatArray
    ddr_capacity_bytes: FloatArray
    ddr_bandwidth_byte_per_s: FloatArray
    host_link_bandwidth_byte_per_s: FloatArray
    host_link_latency_s: FloatArray
    kernel_launch_s: FloatArray
    sync_roundtrip_s: FloatArray
    async_launch: np.ndarray
    graph_capture: np.ndarray
    graph_launch_per_op_s: FloatArray
    device_scalar_control: np.ndarray
    spatial_fusion: np.ndarray
    reconfiguration_s: FloatArray
    tdp_w: FloatArray
    idle_w: FloatArray
    energy_per_flop_j: FloatArray  # (D, P) at boost clock
    energy_per_byte_sram_j: FloatArray
    energy_per_byte_hbm_j: FloatArray
    energy_per_byte_ddr_j: FloatArray
    energy_per_byte_host_link_j: FloatArray
    energy_per_byte_interconnect_j: FloatArray
    min_clock_fraction: FloatArray
    chips_per_node: FloatArray
    chip_to_chip_bandwidth_byte_per_s: FloatArray
    chip_to_chip_latency_s: FloatArray
    node_to_node_bandwidth_byte_per_s: FloatArray
    node_to_node_latency_s: FloatArray

    @property
    def count(self) -> int:
        return len(self.names)

    @classmethod
    def from_hardware(
        cls, designs: Sequence[Hardware], calibration: Calibration | None = None
    ) -> DesignArrays:
        """Stack `designs`; figures a preset leaves open come from `calibration`
        (None: `calibration_in_use()`)."""
        calibration = calibration if calibration is not None else calibration_in_use()
        if not designs:
            raise ValueError("at least one design is needed")

        def col(get: object, dtype: type = float) -> np.ndarray:
            return np.array([get(h) for h in designs], dtype=dtype)  # type: ignore[operator]

        peak = np.array(
            [[h.compute.peak_flop_per_s.get(p, 0.0) for p in PRECISIONS] for h in designs],
            dtype=float,
        )
        tdp = col(lambda h: h.power.tdp_w)
        idle = col(
            lambda h: h.power.idle_w
            if h.power.idle_w is not None
            else calibration.idle_fraction_of_tdp * h.power.tdp_w
        )
        # NOTE: with no energy figure in the preset, the energy per FLOP is the share of
        # the dynamic power budget (TDP - idle) a FLOP at peak rate would draw, scaled by
        # a per-precision factor (calibration layer).
        derived_e_flop = (
            calibration.compute_energy_per_peak_flop_s
            * (tdp - idle)[:, None]
            / np.where(peak > 0, peak, np.inf)
            * np.array([calibration.precision_energy_factor[p] for p in PRECISIONS])[None, :]
        )
        given_e_flop = np.array(
            [[h.power.energy_per_flop_j.get(p, np.nan) for p in PRECISIONS] for h in designs],
            dtype=float,
        )
        e_flop = np.where(np.isnan(given_e_flop), derived_e_flop, given_e_flop)

        def e_byte(level: str) -> np.ndarray:
            default = calibration.energy_per_byte_j[level]
            return col(lambda h: h.power.energy_per_byte_j.get(level, default))

        scratch = col(lambda h: h.sram.management == "scratchpad", bool)
        sram_cap = col(lambda h: h.sram.capacity_bytes)
        usable = sram_cap * np.where(
            scratch, calibration.scratchpad_usable_fraction, calibration.cache_usable_fraction
        )
        return cls(
            names=tuple(h.name for h in designs),
            peak_flop_per_s=peak,
            clock_hz=col(lambda h: h.compute.clock_hz),
            compute_units=col(lambda h: h.compute.compute_units),
            tile_m=col(lambda h: h.compute.tile_m),
            tile_n=col(lambda h: h.compute.tile_n),
            tile_k=col(lambda h: h.compute.tile_k),
            alignment_bytes=col(lambda h: h.compute.alignment_bytes),
            sram_capacity_bytes=sram_cap,
            sram_usable_bytes=usable,
            sram_bandwidth_byte_per_s=col(lambda h: h.sram.bandwidth_byte_per_s),
            sram_is_scratchpad=scratch,
            exchange_overlaps_compute=col(lambda h: h.sram.exchange_overlaps_compute, bool),
            exchange_bandwidth_byte_per_s=col(
                lambda h: h.sram.exchange_bandwidth_byte_per_s or h.sram.bandwidth_byte_per_s),
            hbm_capacity_bytes=col(lambda h: h.hbm.capacity_bytes if h.hbm else 0.0),
            hbm_bandwidth_byte_per_s=col(lambda h: h.hbm.bandwidth_byte_per_s if h.hbm else 0.0),
            ddr_capacity_bytes=col(lambda h: h.ddr.capacity_bytes if h.ddr else 0.0),
            ddr_bandwidth_byte_per_s=col(lambda h: h.ddr.bandwidth_byte_per_s if h.ddr else 0.0),
            host_link_bandwidth_byte_per_s=col(lambda h: h.host.link_bandwidth_byte_per_s),
            host_link_latency_s=col(lambda h: h.host.link_latency_s),
            kernel_launch_s=col(lambda h: h.host.kernel_launch_s),
            sync_roundtrip_s=col(lambda h: h.host.sync_roundtrip_s),
            async_launch=col(lambda h: h.host.async_launch, bool),
            graph_capture=col(lambda h: h.host.graph_capture, bool),
            graph_launch_per_op_s=col(lambda h: h.host.graph_launch_per_op_s),
            device_scalar_control=col(lambda h: h.host.device_scalar_control, bool),
            spatial_fusion=col(lambda h: h.reconfig.spatial_fusion, bool),
            reconfiguration_s=col(lambda h: h.reconfig.reconfiguration_s),
            tdp_w=tdp,
            idle_w=idle,
            energy_per_flop_j=e_flop,
            energy_per_byte_sram_j=e_byte("sram"),
            energy_per_byte_hbm_j=e_byte("hbm"),
            energy_per_byte_ddr_j=e_byte("ddr"),
            energy_per_byte_host_link_j=e_byte("host_link"),
            energy_per_byte_interconnect_j=e_byte("interconnect"),
            min_clock_fraction=col(lambda h: h.power.min_clock_fraction),
            chips_per_node=col(lambda h: h.system.chips_per_node),
            chip_to_chip_bandwidth_byte_per_s=col(
                lambda h: h.system.chip_to_chip_bandwidth_byte_per_s
            ),
            chip_to_chip_latency_s=col(lambda h: h.system.chip_to_chip_latency_s),
            node_to_node_bandwidth_byte_per_s=col(
                lambda h: h.system.node_to_node_bandwidth_byte_per_s
            ),
            node_to_node_latency_s=col(lambda h: h.system.node_to_node_latency_s),
        )
