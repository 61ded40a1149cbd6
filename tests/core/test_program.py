"""The cost core on real presets: pinned figures, bottlenecks and model properties."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dse.config import load_hardware
from dse.core import BOUND_NAMES, evaluate_program
from dse.hardware import Hardware
from dse.workload import (
    Attention,
    Collective,
    Conv2d,
    Elementwise,
    EmbeddingLookup,
    MatMul,
    Operator,
    Reconfigure,
    ScalarReadback,
    Sync,
    Transfer,
)

GIB = 2**30


@pytest.fixture(scope="module")
def h100() -> Hardware:
    return load_hardware("nvidia-h100-sxm")


def bound(result, o: int = 0, d: int = 0) -> str:  # type: ignore[no-untyped-def]
    return BOUND_NAMES[int(result.bound_by[d, o])]


def test_big_gemm_runs_at_the_power_capped_clock(h100: Hardware) -> None:
    # h100_power.csv: back-to-back 8192^3 bf16 GEMMs sustain 672.3 TFLOP/s at ~1365 MHz
    res = evaluate_program([h100], [MatMul(8192, 8192, 8192, "bf16", count=1000)])
    rate = res.flops[0] / res.total_time_s[0]
    assert rate == pytest.approx(672.3e12, rel=0.03)
    assert res.clock_fraction[0] * 1980 == pytest.approx(1365, rel=0.03)
    assert res.average_power_w[0] == pytest.approx(700, rel=0.01)
    assert bound(res) == "compute"


def test_big_copy_is_hbm_bound_at_measured_bandwidth(h100: Hardware) -> None:
    res = evaluate_program([h100], [Elementwise(GIB, GIB, count=100)])
    assert bound(res) == "hbm"
    assert 2 * GIB * 100 / res.total_time_s[0] == pytest.approx(2998e9, rel=0.03)
    assert res.clock_fraction[0] == pytest.approx(1.0)


def test_unaligned_gemm_is_several_times_slower(h100: Hardware) -> None:
    # as measured: one eager call (no graph), 13 runs back to back
    aligned = evaluate_program([h100], [MatMul(4096, 4096, 4096)], graph_captured=False,
                               back_to_back_runs=13)
    odd = evaluate_program([h100], [MatMul(4095, 4095, 4095)], graph_captured=False,
                           back_to_back_runs=13)
    # measured: 0.196 ms vs 1.014 ms (h100_kernels.csv)
    assert odd.total_time_s[0] / aligned.total_time_s[0] == pytest.approx(5.17, rel=0.2)


def test_tiny_ops_are_bound_by_the_host_unless_graph_captured(h100: Hardware) -> None:
    ops = [Elementwise(4096, 4096, count=100)]
    eager = evaluate_program([h100], ops, graph_captured=False)
    graph = evaluate_program([h100], ops, graph_captured=True)
    assert bound(eager) == "host"
    assert graph.total_time_s[0] < eager.total_time_s[0] / 2


def test_scalar_readbacks_hit_the_interaction_wall_unless_the_device_runs_control(
    h100: Hardware,
) -> None:
    loop = [MatMul(128, 128, 128), ScalarReadback()] * 50  # an NMS-like loop
    host_driven = evaluate_program([h100], loop)
    cpu_less = h100.with_changes(host=dataclasses.replace(h100.host, device_scalar_control=True))
    on_device = evaluate_program([cpu_less], loop)
    assert on_device.total_time_s[0] < host_driven.total_time_s[0] / 3
    assert bound(host_driven, o=1) == "host"


def test_weights_that_fit_sram_cost_no_offchip_traffic(h100: Hardware) -> None:
    gemm = [MatMul(64, 8192, 8192)]  # 128 MiB of bf16 weights
    small_sram = evaluate_program([h100], gemm)
    big = h100.with_changes(sram=dataclasses.replace(h100.sram, capacity_bytes=4 * GIB,
                                                     management="scratchpad"))
    big_sram = evaluate_program([big], gemm)
    assert small_sram.bytes_by_level["hbm"][0, 0] > 60e6  # ~40 % of it stays in L2
    assert big_sram.bytes_by_level["hbm"][0, 0] < small_sram.bytes_by_level["hbm"][0, 0] / 10
    assert big_sram.total_time_s[0] < small_sram.total_time_s[0]


def test_doubling_hbm_bandwidth_speeds_memory_bound_ops_only(h100: Hardware) -> None:
    ops: list[Operator] = [MatMul(8192, 8192, 8192, count=50), Elementwise(GIB, GIB, count=50)]
    fast = h100.with_changes(hbm=dataclasses.replace(
        h100.hbm, bandwidth_byte_per_s=2 * h100.hbm.bandwidth_byte_per_s))  # type: ignore[arg-type]
    base = evaluate_program([h100], ops)
    twice = evaluate_program([fast], ops)
    assert twice.device_time_s[0, 0] == pytest.approx(base.device_time_s[0, 0], rel=1e-6)
    assert twice.device_time_s[0, 1] == pytest.approx(base.device_time_s[0, 1] / 2, rel=0.02)


def test_resident_data_that_fits_nowhere_is_infeasible_not_an_error(h100: Hardware) -> None:
    res = evaluate_program([h100], [MatMul(8, 4096, 4096)], resident_bytes=500 * GIB)
    assert not res.feasible[0]
    assert "does not fit" in res.infeasible_reason(0)
    assert np.isfinite(res.total_time_s[0])


def test_unsupported_precision_is_infeasible(h100: Hardware) -> None:
    a100 = load_hardware("nvidia-a100-80gb")  # Ampere has no fp8
    res = evaluate_program([h100, a100], [MatMul(1024, 1024, 1024, "fp8")])
    assert res.feasible.tolist() == [True, False]
    assert "fp8" in res.infeasible_reason(1)


def test_backward_recomputes_instead_of_refetching_when_memory_is_slow(h100: Hardware) -> None:
    conv = [Conv2d(256, 256, 256, 56, 56, pass_="forward_backward")]
    slow = h100.with_changes(hbm=dataclasses.replace(
        h100.hbm, bandwidth_byte_per_s=50e9))  # type: ignore[arg-type]
    fast_res = evaluate_program([h100], conv)
    slow_res = evaluate_program([slow], conv)
    # recomputation adds FLOPs on the slow-memory design but saves its refetch traffic
    assert slow_res.bytes_offchip[0, 0] < fast_res.bytes_offchip[0, 0]


def test_saved_tensors_that_do_not_fit_together_spill_off_chip_and_back(
        h100: Hardware) -> None:
    # GC200 (897 MiB scratchpad, DDR behind it), nothing resident: six passes each save
    # 200 MB for the backward; each fits alone, the 1.2 GB together do not, so what the
    # usable SRAM (85 %, 799.5 MB) cannot hold goes to DDR in the forward pass and back in
    # the backward: 2 x (1.2 GB - 799.5 MB) = 801 MB of DDR traffic, none when each pass
    # is a phase of its own (a micro-batch whose saved set fits).
    gc200 = load_hardware("graphcore-gc200")
    ops = [Elementwise(300e6, 100e6, flops=1e6, dtype="fp16", saved_bytes=200e6)] * 6
    room = 0.85 * gc200.sram.capacity_bytes
    together = evaluate_program([gc200], ops, resident_bytes=0.0)
    apart = evaluate_program([gc200], ops, resident_bytes=0.0, phase_starts=range(1, 6))
    assert together.bytes_by_level["ddr"].sum() == pytest.approx(2 * (1.2e9 - room))
    assert apart.bytes_by_level["ddr"].sum() == 0.0
    assert together.total_time_s[0] > apart.total_time_s[0]
    # a cache (H100) keeps nothing between operators on purpose: no change there
    plain = [dataclasses.replace(op, saved_bytes=0.0) for op in ops]
    assert evaluate_program([h100], ops).total_time_s[0] == evaluate_program(
        [h100], plain).total_time_s[0]


def test_scratchpad_designs_hide_the_next_weights_fetch(h100: Hardware) -> None:
    # a DDR-only scratchpad design: the second GEMM's weights stream in while the first runs
    ddr_design = load_hardware("sambanova-sn10")
    ops = [MatMul(4096, 4096, 4096), MatMul(4096, 4096, 4096)]
    res = evaluate_program([ddr_design], ops, resident_bytes=200 * GIB)
    no_prefetch = evaluate_program([ddr_design], ops[1:], resident_bytes=200 * GIB)
    assert res.device_time_s[0, 1] <= no_prefetch.device_time_s[0, 0] + 1e-12


def test_collectives_use_node_links_beyond_a_node(h100: Hardware) -> None:
    ops = [Collective("all_reduce", GIB, 8), Collective("all_reduce", GIB, 64)]
    res = evaluate_program([h100], ops)
    assert bound(res, 0) == bound(res, 1) == "interconnect"
    # ring all-reduce moves 2(p-1)/p of the buffer; NVLink is 9x the per-GPU IB bandwidth
    assert res.device_time_s[0, 1] / res.device_time_s[0, 0] > 5


def test_reconfiguration_costs_only_reconfigurable_designs(h100: Hardware) -> None:
    sn10 = load_hardware("sambanova-sn10")
    res = evaluate_program([h100, sn10], [Reconfigure("sql -> training")])
    assert res.device_time_s[0, 0] == 0.0
    assert res.device_time_s[1, 0] == pytest.approx(sn10.reconfig.reconfiguration_s)


def test_pageable_copies_are_slower_than_pinned(h100: Hardware) -> None:
    pinned = evaluate_program([h100], [Transfer("host_to_device", GIB, pinned=True)])
    pageable = evaluate_program([h100], [Transfer("host_to_device", GIB, pinned=False)])
    assert pageable.total_time_s[0] > 2.5 * pinned.total_time_s[0]
    assert bound(pinned) == "host"


def test_the_hardware_files_pageable_fraction_sets_the_pageable_copy_time(
        h100: Hardware, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 10, item 5: `host.pageable_bandwidth_fraction` in a hardware file used to be
    parsed and ignored (the core read only the calibration's 0.3294)."""
    import yaml

    from dse.config import hardware_to_dict
    from dse.core.calibration import DEFAULT_CALIBRATION

    assert h100.host.pageable_bandwidth_fraction is None  # the preset leaves it unset
    assert "pageable_bandwidth_fraction" not in hardware_to_dict(h100)["host"]
    document = hardware_to_dict(h100)
    document["host"]["pageable_bandwidth_fraction"] = 0.9
    (tmp_path / "h100-fast-pageable.yaml").write_text(yaml.safe_dump(document))
    fast = load_hardware(str(tmp_path / "h100-fast-pageable.yaml"))
    assert fast.host.pageable_bandwidth_fraction == 0.9
    assert hardware_to_dict(fast)["host"]["pageable_bandwidth_fraction"] == 0.9

    link = 64e9 * DEFAULT_CALIBRATION.host_link_efficiency  # PCIe Gen5 x16, 85.89 % reached
    pageable = evaluate_program([h100, fast], [Transfer("host_to_device", GIB, pinned=False)])
    # 10 us latency + 1 GiB at 0.3294 (calibration) / 0.9 (the file) of the pinned rate
    assert pageable.device_time_s[0, 0] == pytest.approx(1e-5 + GIB / (link * 0.3294),
                                                         rel=1e-12)
    assert pageable.device_time_s[1, 0] == pytest.approx(1e-5 + GIB / (link * 0.9), rel=1e-12)
    assert pageable.device_time_s[1, 0] == pytest.approx(0.0217137, rel=1e-5)
    pinned = evaluate_program([h100, fast], [Transfer("host_to_device", GIB, pinned=True)])
    assert pinned.device_time_s[0, 0] == pinned.device_time_s[1, 0]  # pinned: unaffected


def test_batch_of_designs_matches_one_at_a_time(h100: Hardware) -> None:
    presets = ["nvidia-h100-sxm", "nvidia-a100-80gb", "cerebras-wse-2", "graphcore-gc200"]
    designs = [load_hardware(p) for p in presets]
    ops = mixed_ops()
    batch = evaluate_program(designs, ops)
    for i, hw in enumerate(designs):
        single = evaluate_program([hw], ops)
        np.testing.assert_allclose(batch.time_s[i], single.time_s[0], rtol=1e-12)
        np.testing.assert_allclose(batch.energy_j[i], single.energy_j[0], rtol=1e-12)


def mixed_ops() -> list[Operator]:
    return [
        MatMul(2048, 4096, 4096, "bf16"),
        Elementwise(2**24, 2**24, flops=2**22),
        Attention(4, 32, 1024, 1024, 128, causal=True, pass_="forward_backward"),
        Conv2d(32, 64, 64, 56, 56),
        EmbeddingLookup(1_000_000, 128, 4096),
        MatMul(8, 4096, 4096, "bf16", count=3),
        Collective("all_gather", 2**26, 4),
        Transfer("device_to_host", 2**20),
        Sync(),
        ScalarReadback(count=2),
    ]


# --- properties (hypothesis) ------------------------------------------------------------

scales = st.floats(min_value=1.0, max_value=8.0, allow_nan=False)


def scaled(hw: Hardware, *, hbm: float = 1.0, sram: float = 1.0, peak: float = 1.0,
           ddr: float = 1.0) -> Hardware:
    assert hw.hbm is not None
    changes: dict[str, object] = {
        "hbm": dataclasses.replace(hw.hbm, bandwidth_byte_per_s=hw.hbm.bandwidth_byte_per_s * hbm),
        "sram": dataclasses.replace(hw.sram, capacity_bytes=hw.sram.capacity_bytes * sram),
        "compute": dataclasses.replace(
            hw.compute, peak_flop_per_s={k: v * peak for k, v in hw.compute.peak_flop_per_s.items()}
        ),
    }
    if hw.ddr is not None:
        changes["ddr"] = dataclasses.replace(
            hw.ddr, bandwidth_byte_per_s=hw.ddr.bandwidth_byte_per_s * ddr)
    return hw.with_changes(**changes)


matmuls = st.builds(
    MatMul,
    m=st.integers(1, 8192), n=st.integers(1, 8192), k=st.integers(1, 8192),
    dtype=st.sampled_from(["bf16", "fp16", "fp32", "fp8"]), count=st.integers(1, 4),
)
elementwise = st.builds(
    Elementwise,
    bytes_read=st.floats(0, 2**31), bytes_written=st.floats(0, 2**31),
    flops=st.floats(0, 2**30),
)
attention = st.builds(
    Attention, batch=st.integers(1, 16), heads=st.integers(1, 64), seq_q=st.integers(1, 4096),
    seq_kv=st.integers(1, 8192), head_dim=st.sampled_from([64, 128]), causal=st.booleans(),
    pass_=st.sampled_from(["forward", "forward_backward"]),
)
programs = st.lists(
    st.one_of(matmuls, elementwise, attention, st.just(Sync()), st.just(ScalarReadback())),
    min_size=1, max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=programs, hbm=scales, sram=scales, peak=scales,
       preset=st.sampled_from(["nvidia-h100-sxm", "nvidia-a100-80gb", "google-tpu-v4"]))
def test_more_bandwidth_sram_or_peak_never_makes_anything_slower(
    ops: list[Operator], hbm: float, sram: float, peak: float, preset: str
) -> None:
    base = load_hardware(preset)
    ops = [o for o in ops if not (isinstance(o, MatMul) and not base.supports(o.dtype))]
    if not ops:
        return
    variants = [base, scaled(base, hbm=hbm), scaled(base, sram=sram), scaled(base, peak=peak)]
    res = evaluate_program(variants, ops)
    for d in range(1, len(variants)):
        assert res.total_time_s[d] <= res.total_time_s[0] * (1 + 1e-9)
        assert np.all(res.device_time_s[d] <= res.device_time_s[0] * (1 + 1e-9) + 1e-15)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=programs, preset=st.sampled_from(
    ["nvidia-h100-sxm", "cerebras-wse-2", "graphcore-gc200", "sambanova-sn10", "intel-xeon-amx",
     "cpu-less-dlpu"]))
def test_times_and_energies_are_positive_and_finite(ops: list[Operator], preset: str) -> None:
    hw = load_hardware(preset)
    res = evaluate_program([hw], ops)
    for arr in (res.time_s, res.device_time_s, res.energy_j, res.total_time_s,
                res.total_energy_j, res.average_power_w):
        assert np.all(np.isfinite(arr))
    assert np.all(res.time_s >= 0) and res.total_time_s[0] > 0
    assert np.all(res.energy_j >= 0) and res.total_energy_j[0] > 0
    assert math.isclose(res.time_s.sum(), res.total_time_s[0], rel_tol=1e-9)
    assert res.average_power_w[0] >= hw.power.tdp_w * 0.05


def test_bulk_synchronous_exchange_adds_to_compute_instead_of_overlapping() -> None:
    """GC200: a 2048^3 fp16 GEMM partitioned over 1,472 tiles gives each tile a 53 x 53
    share of the output, whose rows of A and columns of B cross the 8 TB/s IPU-Exchange:
    2 x 2048^3 x 10 FLOPs x 2 bytes / 53.4 = 6.4 GB, 0.89 ms at 90 % -- added to compute
    time, as an exchange 1000x faster shows."""
    ipu = load_hardware("graphcore-gc200")
    assert not ipu.sram.exchange_overlaps_compute
    assert ipu.sram.exchange_bandwidth_byte_per_s == 8e12
    fast = ipu.with_changes(sram=dataclasses.replace(ipu.sram,
                                                     exchange_bandwidth_byte_per_s=8e15))
    ops = [MatMul(2048, 2048, 2048, "fp16", count=10)]
    bsp = evaluate_program([ipu, fast], ops)
    edge = math.sqrt(2048 * 2048 / 1472)
    exchange_s = 2 * 2048**3 * 10 * 2 / edge / (8e12 * 0.9)
    assert exchange_s == pytest.approx(0.894e-3, rel=0.01)
    # the longer operator draws less power, so its clock can only be higher and its
    # compute part no longer than the faster one's
    assert bsp.device_time_s[0, 0] > bsp.device_time_s[1, 0] + 0.5 * exchange_s
    assert bsp.device_time_s[0, 0] <= bsp.device_time_s[1, 0] + exchange_s * 1.001
    assert bsp.clock_fraction[0] >= bsp.clock_fraction[1]


def test_exchange_bandwidth_leaves_designs_that_give_none_unchanged() -> None:
    h100 = load_hardware("nvidia-h100-sxm")
    assert h100.sram.exchange_bandwidth_byte_per_s is None
    same = h100.with_changes(sram=dataclasses.replace(
        h100.sram, exchange_bandwidth_byte_per_s=h100.sram.bandwidth_byte_per_s))
    ops = [MatMul(4096, 4096, 4096, "bf16"), MatMul(1, 8192, 8192, "bf16")]
    a, b = evaluate_program([h100, same], ops).device_time_s
    assert np.allclose(a, b)
