"""The resources a design can have more of, and what "more" means for each.

The cost core promises to be *monotone* in every resource listed here: a design with more
of one (twice the peak of a precision, twice the SRAM, half the launch cost, asynchronous
launch where it had none) never runs a program, a workload or a suite slower. The
argument: the better design can always run as the worse one did -- same work, same energy,
same or lower power -- so a model that picks the best of its options cannot make it
slower. `tests/core/test_monotone_core.py` and `tests/evaluators/test_monotone_evaluators.py`
check the promise on random designs around every preset (docs/cost-model.md,
"Monotonicity").

- `scale(hw, factors, features)`: `hw` with named resources multiplied by factors and host
  features set, e.g. `scale(h100, {"sram_capacity": 2.0}, {"graph_capture": True})`.
- `improve(hw, name)`: `hw` with one resource made better (x2 for a bandwidth, capacity,
  peak or TDP; x0.5 for a latency or launch cost; a host feature switched on), or None
  where the design has no such resource (no HBM, no fp8, the feature already on).
- `perturb(hw, rng)`: a random design around `hw` (every resource scaled by its own
  log-uniform factor, host features toggled at random).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from dse.hardware import PRECISIONS, Hardware

BIGGER_IS_BETTER: tuple[str, ...] = (
    *(f"peak_{p}" for p in PRECISIONS),
    "sram_capacity", "sram_bandwidth", "sram_exchange_bandwidth",
    "hbm_capacity", "hbm_bandwidth", "ddr_capacity", "ddr_bandwidth",
    "host_link_bandwidth", "chip_to_chip_bandwidth", "node_to_node_bandwidth", "tdp",
)
"""Resources where more is better: bandwidths, capacities, peaks per precision, TDP."""
SMALLER_IS_BETTER: tuple[str, ...] = (
    "host_link_latency", "kernel_launch", "sync_roundtrip", "graph_launch_per_op",
    "chip_to_chip_latency", "node_to_node_latency", "reconfiguration_time",
)
"""Resources where less is better: latencies, launch and replay costs, reconfiguration."""
HOST_FEATURES: tuple[str, ...] = ("async_launch", "graph_capture", "device_scalar_control")
"""Host features that only add options: launching ahead of the device, replaying a
captured graph (the runtime captures only where it is faster), scalar control on the
device. NOTE: `sram.exchange_overlaps_compute` and scratchpad vs cache are not here: they
select a different execution model (bulk-synchronous partitions each operator once over
all tiles; a scratchpad is placed by software), not more of a resource."""
RESOURCES: tuple[str, ...] = BIGGER_IS_BETTER + SMALLER_IS_BETTER + HOST_FEATURES


def _present(hw: Hardware, resource: str) -> bool:
    """Whether `hw` has the resource at all (doubling nothing is no change)."""
    if resource.startswith("peak_"):
        return resource[5:] in hw.compute.peak_flop_per_s
    if resource.startswith("hbm_"):
        return hw.hbm is not None
    if resource.startswith("ddr_"):
        return hw.ddr is not None
    if resource == "sram_exchange_bandwidth":
        return hw.sram.exchange_bandwidth_byte_per_s is not None
    if resource.startswith(("chip_to_chip_", "node_to_node_")):
        unit = "_byte_per_s" if resource.endswith("bandwidth") else "_s"
        return bool(getattr(hw.system, resource + unit) > 0)
    if resource == "reconfiguration_time":
        return hw.reconfig.spatial_fusion and hw.reconfig.reconfiguration_s > 0
    return True


def scale(hw: Hardware, factors: Mapping[str, float],
          features: Mapping[str, bool] | None = None, name: str | None = None) -> Hardware:
    """`hw` with each named resource multiplied by its factor and host features set.

    A given idle power scales with TDP (a smaller envelope idles lower); resources the
    design does not have are left absent."""
    unknown = set(factors) - set(BIGGER_IS_BETTER + SMALLER_IS_BETTER)
    unknown |= set(features or {}) - set(HOST_FEATURES)
    if unknown:
        raise KeyError(f"unknown resources: {', '.join(sorted(unknown))}")

    def f(resource: str) -> float:
        return float(factors.get(resource, 1.0))

    compute = replace(hw.compute, peak_flop_per_s={
        p: v * f(f"peak_{p}") for p, v in hw.compute.peak_flop_per_s.items()})
    exchange = hw.sram.exchange_bandwidth_byte_per_s
    sram = replace(hw.sram, capacity_bytes=hw.sram.capacity_bytes * f("sram_capacity"),
                   bandwidth_byte_per_s=hw.sram.bandwidth_byte_per_s * f("sram_bandwidth"),
                   exchange_bandwidth_byte_per_s=None if exchange is None
                   else exchange * f("sram_exchange_bandwidth"))
    hbm = None if hw.hbm is None else replace(
        hw.hbm, capacity_bytes=hw.hbm.capacity_bytes * f("hbm_capacity"),
        bandwidth_byte_per_s=hw.hbm.bandwidth_byte_per_s * f("hbm_bandwidth"))
    ddr = None if hw.ddr is None else replace(
        hw.ddr, capacity_bytes=hw.ddr.capacity_bytes * f("ddr_capacity"),
        bandwidth_byte_per_s=hw.ddr.bandwidth_byte_per_s * f("ddr_bandwidth"))
    host = replace(
        hw.host,
        link_bandwidth_byte_per_s=hw.host.link_bandwidth_byte_per_s * f("host_link_bandwidth"),
        link_latency_s=hw.host.link_latency_s * f("host_link_latency"),
        kernel_launch_s=hw.host.kernel_launch_s * f("kernel_launch"),
        sync_roundtrip_s=hw.host.sync_roundtrip_s * f("sync_roundtrip"),
        graph_launch_per_op_s=hw.host.graph_launch_per_op_s * f("graph_launch_per_op"),
        **dict(features or {}),
    )
    system = replace(
        hw.system,
        chip_to_chip_bandwidth_byte_per_s=hw.system.chip_to_chip_bandwidth_byte_per_s
        * f("chip_to_chip_bandwidth"),
        chip_to_chip_latency_s=hw.system.chip_to_chip_latency_s * f("chip_to_chip_latency"),
        node_to_node_bandwidth_byte_per_s=hw.system.node_to_node_bandwidth_byte_per_s
        * f("node_to_node_bandwidth"),
        node_to_node_latency_s=hw.system.node_to_node_latency_s * f("node_to_node_latency"),
    )
    reconfig = replace(hw.reconfig, reconfiguration_s=hw.reconfig.reconfiguration_s
                       * f("reconfiguration_time"))
    idle = hw.power.idle_w
    power = replace(hw.power, tdp_w=hw.power.tdp_w * f("tdp"),
                    idle_w=None if idle is None else idle * f("tdp"))
    return replace(hw, name=name or hw.name, compute=compute, sram=sram, hbm=hbm, ddr=ddr,
                   host=host, system=system, reconfig=reconfig, power=power)


def improve(hw: Hardware, resource: str) -> Hardware | None:
    """`hw` with one resource made better, named `<name>+<resource>`; None if `hw` has
    no such resource or the host feature is already on."""
    name = f"{hw.name}+{resource}"
    if resource in HOST_FEATURES:
        if getattr(hw.host, resource):
            return None
        return scale(hw, {}, {resource: True}, name=name)
    if not _present(hw, resource):
        return None
    if resource == "tdp":
        # a given idle power stays what it was: the extra TDP is all headroom
        return replace(hw, name=name, power=replace(hw.power, tdp_w=hw.power.tdp_w * 2.0))
    factor = 2.0 if resource in BIGGER_IS_BETTER else 0.5
    return scale(hw, {resource: factor}, name=name)


def random_factors(rng: np.random.Generator, low: float = 0.25, high: float = 4.0
                   ) -> tuple[dict[str, float], dict[str, bool]]:
    """Log-uniform factors in [low, high] for every scalable resource, and a random
    setting of every host feature."""
    factors = {r: float(math.exp(rng.uniform(math.log(low), math.log(high))))
               for r in BIGGER_IS_BETTER + SMALLER_IS_BETTER}
    features = {r: bool(rng.random() < 0.5) for r in HOST_FEATURES}
    return factors, features


def perturb(hw: Hardware, rng: np.random.Generator, low: float = 0.25, high: float = 4.0,
            name: str | None = None) -> Hardware:
    """A random design around `hw` (see `random_factors`)."""
    factors, features = random_factors(rng, low, high)
    return scale(hw, factors, features, name=name or f"{hw.name}~")
