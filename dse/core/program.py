"""One program (a sequence of operators) on a batch of designs.

The model, per operator and design (all `(n_designs, n_ops)` numpy arrays):

1. **Placement.** Resident data (weights, tables, KV cache) goes to SRAM if it fits the
   usable SRAM (a scratchpad may hold part of it; a cache holds it only if all of it
   fits), else HBM, else DDR. Activations live in the first off-chip level (HBM, else DDR,
   else SRAM) and stay on chip between consecutive operators when they fit.
2. **Traffic.** Each operator's bytes at each level: weights from their home, inputs not
   left on chip by the previous operator, outputs written back (a scratchpad or a fused
   dataflow keeps them on chip for the next operator when they fit), the extra re-reads
   of tiling a GEMM whose working set exceeds SRAM, and tile traffic through SRAM.
3. **Device time** = max(compute, SRAM, HBM, DDR) + a per-kernel overhead. Compute uses
   the precision's peak at the operator's clock, with wave/tile quantisation, alignment
   and kernel-class efficiencies from the calibration layer. On scratchpad designs the
   next operator's weights are prefetched while this one runs (their fetch time moves to
   the operator before, where it overlaps compute).
4. **Power cap.** Each operator's power at the boost clock is idle + compute + memory
   power; where that exceeds TDP the clock drops until it fits (power ~ f^3). Programs
   shorter than the power limiter's window run partly at boost.
5. **Host.** Operators are issued by the host (eager launch, or from a captured graph);
   with asynchronous launch the host runs ahead of the device, so launch cost shows only
   when device work is shorter than it. Syncs and scalar read-backs drain the device and
   pay a round trip, unless the device runs scalar control itself.

Every operator's `bound_by` names what limits it: compute, sram, hbm, ddr, host or
interconnect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dse.core import operators as K
from dse.core.calibration import Calibration, calibration_in_use
from dse.core.designs import PRECISION_INDEX, DesignArrays
from dse.core.host import HostIssue, fastest_issue
from dse.core.liveness import live_saved_bytes, spill_share
from dse.core.operators import OperatorArrays
from dse.hardware import PRECISIONS, Hardware
from dse.workload import OP_KINDS, Operator

BOUND_NAMES: tuple[str, ...] = ("compute", "sram", "hbm", "ddr", "host", "interconnect")
BOUND_COMPUTE, BOUND_SRAM, BOUND_HBM, BOUND_DDR, BOUND_HOST, BOUND_INTERCONNECT = range(6)

_GIB = 2.0**30


def _kinds(*codes: int) -> np.ndarray:
    """A lookup table: `table[kind]` is True for the operator kinds `codes`."""
    table = np.zeros(len(OP_KINDS), dtype=bool)
    table[list(codes)] = True
    return table


# NOTE: table lookups, not np.isin: isin sorts on every call, and a search makes thousands
# of small core calls.
_GEMM_LIKE = _kinds(K.KIND_MATMUL, K.KIND_CONV, K.KIND_ATTENTION)
_DATAFLOW = _kinds(K.KIND_MATMUL, K.KIND_CONV, K.KIND_ATTENTION, K.KIND_ELEMENTWISE,
                   K.KIND_EMBEDDING)
_HOST_CONTROL = _kinds(K.KIND_SYNC, K.KIND_SCALAR_READBACK)


def _phase_start_mask(n_ops: int, phase_starts: Sequence[int]) -> np.ndarray:
    mask = np.zeros(n_ops, dtype=bool)
    starts = np.asarray(phase_starts, dtype=int)
    mask[starts[(starts >= 0) & (starts < n_ops)]] = True
    return mask


@dataclass(frozen=True, slots=True)
class ProgramResult:
    """What a program costs on each design. `(n_designs, n_ops)` arrays unless noted."""

    design_names: tuple[str, ...]
    op_kinds: tuple[str, ...]
    time_s: np.ndarray
    """Increase of the program's completion time due to each operator (sums to total)."""
    device_time_s: np.ndarray
    """Device busy time per operator, count included."""
    host_issue_s: np.ndarray
    energy_j: np.ndarray
    bound_by: np.ndarray
    flops: np.ndarray  # (n_ops,), count included
    bytes_offchip: np.ndarray
    bytes_by_level: dict[str, np.ndarray]
    clock_fraction_by_op: np.ndarray
    total_time_s: np.ndarray  # (n_designs,)
    total_energy_j: np.ndarray  # (n_designs,)
    average_power_w: np.ndarray  # (n_designs,)
    clock_fraction: np.ndarray  # (n_designs,) time-weighted clock, fraction of boost
    idle_w: np.ndarray  # (n_designs,) board power while the chip waits
    feasible: np.ndarray  # (n_designs,) bool
    reasons: tuple[tuple[str, ...], ...]

    def infeasible_reason(self, design: int) -> str:
        return "; ".join(self.reasons[design])

    def time_by_bound_s(self, design: int) -> dict[str, float]:
        out = {name: 0.0 for name in BOUND_NAMES}
        for bound, t in zip(self.bound_by[design], self.time_s[design], strict=True):
            out[BOUND_NAMES[int(bound)]] += float(t)
        return out


@dataclass(frozen=True, slots=True)
class _Traffic:
    """One recompute decision's per-operator figures, `(n_designs, n_ops)` arrays."""

    flops: np.ndarray
    bytes_by_level: dict[int, np.ndarray]
    t_compute: np.ndarray
    t_hbm: np.ndarray
    t_ddr: np.ndarray
    t_sram: np.ndarray
    t_serial: np.ndarray
    t_sram_parallel: np.ndarray
    e_comp: np.ndarray
    e_mem: np.ndarray

    def select(self, other: _Traffic, where: np.ndarray) -> _Traffic:
        """`other`'s figures where `where`, this one's elsewhere."""
        def pick(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
            return np.asarray(np.where(where, theirs, mine), dtype=float)

        return _Traffic(
            pick(self.flops, other.flops),
            {lvl: pick(v, other.bytes_by_level[lvl]) for lvl, v in self.bytes_by_level.items()},
            *(pick(getattr(self, f), getattr(other, f)) for f in (
                "t_compute", "t_hbm", "t_ddr", "t_sram", "t_serial", "t_sram_parallel",
                "e_comp", "e_mem")))


@dataclass(frozen=True, slots=True)
class _Schedule:
    """Device times of one recompute decision after prefetch, and its sustained clock."""

    traffic: _Traffic
    t_hbm: np.ndarray
    t_ddr: np.ndarray
    t_mem: np.ndarray
    host_dev_time: np.ndarray
    r_sustained: np.ndarray


def _capped_clock(
    e_comp: np.ndarray,
    e_mem: np.ndarray,
    t_compute: np.ndarray,
    t_memory: np.ndarray,
    t_serial: np.ndarray,
    overhead_s: np.ndarray,
    budget_w: np.ndarray,
    iterations: int = 30,
) -> np.ndarray:
    """The highest clock fraction r <= 1 at which an operator's power fits the budget.

    NOTE: DVFS: dynamic energy per operation ~ V^2 with V roughly proportional to f, so
    compute energy at clock r is e_comp * r^2, and the operator takes
    t(r) = max(t_compute / r + t_serial, t_memory) + overhead (t_serial: exchange phases
    of a bulk-synchronous design). Its power (e_comp r^2 + e_mem) / t(r)
    rises with r, so the cap is met at exactly one r: found by bisection, only where the
    boost clock breaks the cap. Being exact keeps the model monotone: more bandwidth or
    peak never makes an operator slower. Evidence for the cube law (power ~ f^3 on
    compute-bound work): the H100 bf16 and fp8 power rows (1365 and 1245 MHz at 700 W).
    """
    arrays = (e_comp, e_mem, t_compute, t_memory, t_serial, overhead_s, budget_w)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    e_c, e_m, t_c, t_m, t_s, over, budget = (np.broadcast_to(a, shape) for a in arrays)

    r = np.ones(shape)
    at_boost = (e_c + e_m) / np.maximum(np.maximum(t_c + t_s, t_m) + over, 1e-30)
    idx = np.nonzero(at_boost > budget)
    if idx[0].size:
        ec, em, tc, tm, ts, ov, b = (a[idx] for a in (e_c, e_m, t_c, t_m, t_s, over, budget))
        low, high = np.zeros(ec.size), np.ones(ec.size)
        for _ in range(iterations):
            mid = 0.5 * (low + high)
            t = np.maximum(tc / np.maximum(mid, 1e-9) + ts, tm) + ov
            over_cap = ec * mid * mid + em > b * t
            high = np.where(over_cap, mid, high)
            low = np.where(over_cap, low, mid)
        r[idx] = low
    return r


def evaluate_program(
    designs: Sequence[Hardware] | DesignArrays,
    ops: Sequence[Operator] | OperatorArrays,
    *,
    resident_bytes: float | np.ndarray | None = None,
    graph_captured: bool = True,
    back_to_back_runs: float = math.inf,
    phase_starts: Sequence[int] = (),
    calibration: Calibration | None = None,
) -> ProgramResult:
    """Cost of running `ops` in order on every design.

    resident_bytes: bytes per chip that persist across the program (weights, optimizer
        state, KV cache, tables); scalar or `(n_designs,)`. None: the sum of the operators'
        weights and tables.
    graph_captured: the program may be captured as a graph where the design supports it.
    back_to_back_runs: how many times the program runs back to back (sets how long the
        power limiter has been active); infinity means steady state.
    phase_starts: indices of operators that begin a phase: the host issues them only
        once the device has finished everything before (see `dse.core.host.pipeline`).
    calibration: efficiency factors and overheads; None: `calibration_in_use()`.
    """
    calibration = calibration if calibration is not None else calibration_in_use()
    dz = (
        designs
        if isinstance(designs, DesignArrays)
        else DesignArrays.from_hardware(list(designs), calibration)
    )
    oa = ops if isinstance(ops, OperatorArrays) else OperatorArrays.cached(tuple(ops))
    n_designs, n_ops = dz.count, oa.size
    cal = calibration
    # (n_designs,) -> (n_designs, 1) and (n_ops,) -> (1, n_ops), to broadcast to a grid
    col = lambda a: np.asarray(a, dtype=float)[:, None]  # noqa: E731
    row = lambda a: np.asarray(a, dtype=float)[None, :]  # noqa: E731
    colb = lambda a: np.asarray(a, dtype=bool)[:, None]  # noqa: E731
    rowb = lambda a: np.asarray(a, dtype=bool)[None, :]  # noqa: E731
    kind = oa.kind
    count = row(oa.count)
    reasons: list[list[str]] = [[] for _ in range(n_designs)]

    is_gemm_like = _GEMM_LIKE[kind]
    is_dataflow = _DATAFLOW[kind]

    # --- precision support -----------------------------------------------------------
    prec = np.where(oa.precision >= 0, oa.precision, PRECISION_INDEX["fp32"])
    peak = dz.peak_flop_per_s[:, prec]  # (n_designs, n_ops)
    unsupported = rowb(is_gemm_like) & (peak <= 0)
    # NOTE: elementwise arithmetic runs on vector units; where a design lists no fp32
    # peak, its vector rate is taken as 1/16 of its widest tensor peak (typical ratio of
    # vector to matrix throughput on tensor accelerators).
    widest = dz.peak_flop_per_s.max(axis=1)
    vector_peak = np.where(
        dz.peak_flop_per_s[:, PRECISION_INDEX["fp32"]] > 0,
        dz.peak_flop_per_s[:, PRECISION_INDEX["fp32"]],
        widest / 16.0,
    )
    for d in np.flatnonzero(unsupported.any(axis=1)):
        missing = sorted({PRECISIONS[prec[o]] for o in np.flatnonzero(unsupported[d])})
        reasons[d].append(f"precision not supported: {', '.join(missing)}")
    peak = np.where(unsupported, 1.0, peak)  # keep arithmetic finite; marked infeasible

    # --- placement of resident data ---------------------------------------------------
    if resident_bytes is None:
        resident = np.full(n_designs, float(oa.weight_bytes.sum()))
    else:
        resident = np.broadcast_to(np.asarray(resident_bytes, dtype=float), (n_designs,)).copy()
    room = dz.sram_usable_bytes
    safe_resident = np.where(resident > 0, resident, 1.0)
    # NOTE: a scratchpad pins what fits; a cache keeps about the same share of a
    # repeatedly streamed working set (H100 GEMV rows with 90 MB of weights run ~40 %
    # faster than HBM alone allows, as ~50 MB of L2 keeps part of them between calls).
    frac_sram = np.where(resident <= 0, 0.0, np.minimum(1.0, room / safe_resident))
    rest = resident * (1.0 - frac_sram)
    in_hbm = np.minimum(rest, dz.hbm_capacity_bytes)
    in_ddr = rest - in_hbm
    overflow = in_ddr > dz.ddr_capacity_bytes * (1 + 1e-12)
    for d in np.flatnonzero(overflow):
        reasons[d].append(
            f"resident data {resident[d] / _GIB:.1f} GiB does not fit: usable SRAM "
            f"{room[d] / _GIB:.2f} GiB, HBM {dz.hbm_capacity_bytes[d] / _GIB:.1f} GiB, "
            f"DDR {dz.ddr_capacity_bytes[d] / _GIB:.1f} GiB"
        )
    frac_hbm = np.where(resident > 0, in_hbm / safe_resident, 0.0)
    frac_ddr = np.where(
        resident > 0, np.minimum(in_ddr, dz.ddr_capacity_bytes) / safe_resident, 0.0
    )
    act_room = np.maximum(0.0, room - frac_sram * resident)  # (n_designs,)

    has_hbm = dz.hbm_bandwidth_byte_per_s > 0
    has_ddr = dz.ddr_bandwidth_byte_per_s > 0
    act_level = np.where(has_hbm, BOUND_HBM, np.where(has_ddr, BOUND_DDR, BOUND_SRAM))
    # With no resident data, operands called weights live where activations live.
    no_resident = resident <= 0
    w_frac = {
        BOUND_SRAM: np.where(no_resident, act_level == BOUND_SRAM, frac_sram),
        BOUND_HBM: np.where(no_resident, act_level == BOUND_HBM, frac_hbm),
        BOUND_DDR: np.where(no_resident, act_level == BOUND_DDR, frac_ddr),
    }

    # --- activations: what stays on chip between operators ----------------------------
    out_b = row(oa.output_bytes)
    in_b = row(oa.input_bytes)
    prev_out = np.concatenate([[0.0], oa.output_bytes[:-1]])
    prev_dataflow = np.concatenate([[False], is_dataflow[:-1]])
    chained = rowb(is_dataflow & prev_dataflow)
    fits_prev = row(prev_out) <= col(act_room)
    # NOTE: software that manages a scratchpad (or streams a fused dataflow) keeps an
    # output on chip while it fits and writes it back to off-chip memory only to free
    # SRAM (the essay's description of the SRAM + DDR route); a cache writes it back, and
    # only the previous operator's output is still likely to be in it. On a scratchpad any
    # input that fits was kept on chip by its producer (residual branches, tensors saved
    # for the backward pass); the saved tensors that do not fit together are charged below.
    keeps_output = colb(dz.sram_is_scratchpad | dz.spatial_fusion)
    kept_input = keeps_output & rowb(is_dataflow) & (in_b <= col(act_room))
    streamed = in_b - np.where(chained & fits_prev, np.minimum(in_b, row(prev_out)), 0.0)
    reused = np.where(kept_input, in_b, in_b - streamed)
    stays = keeps_output & rowb(is_dataflow) & (out_b <= col(act_room))
    written = np.where(stays, 0.0, out_b)
    # NOTE: tensors saved for the backward pass are live together (dse/core/liveness.py).
    # Where an operator's input stays on chip, the share of its saved tensors that the
    # phase's live set leaves no room for is written off chip in the forward pass and read
    # back in the backward (2 x bytes), at most what streaming its input would cost (the
    # software's other choice). Until this was charged, a scratchpad design ran any
    # micro-batch with its saved activations "on chip": Graphcore's GC200 trained
    # ResNet-50 at 1.07 of an A100 per chip at micro-batch 32 (2.2 GB of saved tensors
    # beside 897 MiB of SRAM), against the 0.51 MLPerf Training v1.1 implies.
    saved = row(oa.saved_activation_bytes)
    spilled: np.ndarray | float = 0.0
    avoided: np.ndarray = saved
    redo_share: np.ndarray | float = 1.0
    if oa.saved_activation_bytes.any():  # a training program (inference skips the arrays)
        spilled_share = spill_share(live_saved_bytes(oa.saved_activation_bytes, oa.count,
                                                     phase_starts), act_room)
        spilled = np.where(kept_input, np.minimum(2.0 * spilled_share * saved, streamed), 0.0)
        # What recomputing a backward's saved input avoids: its spilled share where the
        # input stays on chip (redoing that share of the forward), else its refetch.
        avoided = np.where(kept_input, spilled, saved)
        redo_share = np.where(kept_input, spilled_share, 1.0)

    # --- GEMM tiling, quantisation, alignment -------------------------------------------
    m, n, k_dim = row(oa.gemm_m), row(oa.gemm_n), row(oa.gemm_k)
    batch, elt = row(oa.gemm_batch), row(oa.element_bytes)
    tm, tn, tk = col(dz.tile_m), col(dz.tile_n), col(dz.tile_k)
    tiles_m, tiles_n = np.ceil(m / tm), np.ceil(n / tn)
    tiles = batch * tiles_m * tiles_n
    units = col(dz.compute_units)
    # NOTE: skinny GEMMs that cannot fill the machine are split along k (split-K /
    # stream-K in cuBLAS and CUTLASS), keeping at least 4 k-tiles per split.
    k_splits = np.clip(np.floor(units / tiles), 1.0, np.maximum(1.0, np.ceil(k_dim / (4 * tk))))
    work = tiles * k_splits
    wave_util = work / (np.ceil(work / units) * units)
    pad_util = (m * n * k_dim) / (tiles_m * tm * tiles_n * tn * np.ceil(k_dim / tk) * tk)
    align = col(dz.alignment_bytes)
    aligned = (np.mod(k_dim * elt, align) == 0) & (np.mod(n * elt, align) == 0)
    align_eff = np.where(aligned, 1.0, cal.unaligned_efficiency)
    # NOTE: a causal fused-attention kernel computes whole query x key blocks, so blocks
    # that straddle the diagonal count in full: (nb + 1) / (2 nb) of the square for nb
    # blocks of tile_m rows, not the ~1/2 of the exact mask (H100 causal rows at short
    # sequences run closer to the non-causal time than half of it).
    visible = row(oa.causal_visible)
    blocks = np.maximum(1.0, np.ceil(m / tm))
    block_visible = np.where(visible < 1.0, (blocks + 1.0) / (2.0 * blocks), 1.0)
    causal_waste = np.where(visible < 1.0, visible / np.maximum(block_visible, visible), 1.0)
    shape_eff = wave_util * pad_util * align_eff * causal_waste

    fwd_share = np.where(
        rowb(oa.backward), 1.0 / (1.0 + K.ATTENTION_BACKWARD_FLOP_RATIO), 1.0
    )
    attention_eff = 1.0 / (
        fwd_share / cal.attention_forward_efficiency
        + (1 - fwd_share) / cal.attention_backward_efficiency
    )
    base_eff = np.select(
        [rowb(kind == K.KIND_MATMUL), rowb(kind == K.KIND_CONV),
         rowb(kind == K.KIND_ATTENTION)],
        [
            np.full((1, n_ops), cal.matmul_peak_efficiency),
            np.full((1, n_ops), cal.matmul_peak_efficiency * cal.conv_relative_efficiency),
            attention_eff,
        ],
        default=1.0,
    )
    tensor_rate = peak * base_eff * shape_eff  # FLOP/s at boost clock
    vector_rate = col(vector_peak * cal.vector_efficiency)
    # NOTE: single-row and very thin GEMMs run as GEMV on vector paths rather than on
    # padded tensor tiles; never charge worse than the vector rate.
    rate = np.where(rowb(is_gemm_like), np.maximum(tensor_rate, vector_rate), vector_rate)
    flops_exec = row(oa.flops)

    # Tiling re-reads when the GEMM's working set exceeds SRAM.
    weights_exec = row(oa.weight_bytes)
    is_tiled = rowb((kind == K.KIND_MATMUL) | (kind == K.KIND_CONV))
    working_set = weights_exec + in_b + out_b
    tile_edge = np.maximum(tm, np.sqrt(col(room) / (3.0 * elt)))
    spills = is_tiled & (working_set > col(room))
    extra_inputs = np.where(spills, in_b * np.maximum(0.0, np.ceil(n / tile_edge) - 1), 0.0)
    extra_weights = np.where(
        spills, weights_exec * np.maximum(0.0, np.ceil(m * batch / tile_edge) - 1), 0.0
    )

    # Weight (resident) reads: embedding lookups read only the gathered rows.
    gathered = row(oa.gather_rows * np.maximum(oa.gather_row_bytes, cal.gather_burst_bytes))
    weight_reads = np.where(rowb(kind == K.KIND_EMBEDDING), gathered, weights_exec)
    weight_reads = np.where(rowb(is_dataflow), weight_reads + extra_weights, 0.0)
    act_offchip = np.where(rowb(is_dataflow | (kind == K.KIND_COLLECTIVE)),
                           (in_b - reused) + written + extra_inputs + spilled, 0.0)

    # Per-operator traffic and times (before prefetch), for a given recompute decision.
    act_at = {lvl: colb(act_level == lvl) for lvl in (BOUND_SRAM, BOUND_HBM, BOUND_DDR)}
    # NOTE: each output block of a tiled GEMM reads its rows of A and columns of B from
    # outside the compute unit: flops x bytes x (1/block_m + 1/block_n) / 2. A GPU streams
    # fixed tile_m x tile_n blocks through waves; a bulk-synchronous design (Graphcore's
    # Poplar) partitions each operator once over all its tiles, so a tile's block is its
    # share of the output -- at least one tile_m x tile_n grain, at most the whole GEMM.
    bsp_col = colb(~dz.exchange_overlaps_compute)
    share = np.maximum(tm * tn, batch * m * n / units)
    block_m = np.where(bsp_col, np.clip(np.sqrt(share), tm, np.maximum(m, tm)), tm)
    block_n = np.where(bsp_col, np.clip(share / block_m, tn, np.maximum(n, tn)), tn)
    tile_bytes_per_flop = np.where(
        rowb(is_gemm_like), elt * (1.0 / block_m + 1.0 / block_n) / 2.0, 0.0)
    operand_bytes = np.where(rowb(is_dataflow), in_b + out_b + weight_reads, 0.0)
    hbm_bw = col(dz.hbm_bandwidth_byte_per_s * cal.hbm_efficiency)
    ddr_bw = col(dz.ddr_bandwidth_byte_per_s * cal.ddr_efficiency)
    sram_bw = col(dz.sram_bandwidth_byte_per_s * cal.sram_efficiency)
    # NOTE: operands moving between compute units (`tile_traffic`) cross the on-chip
    # fabric at its exchange bandwidth -- Graphcore's IPU-Exchange moves 8 TB/s between
    # tiles while each tile reads its own memory at 47.5 TB/s in all -- and the rest of
    # the on-chip traffic is local; designs that give no exchange bandwidth move both at
    # the SRAM bandwidth.
    exchange_bw = col(dz.exchange_bandwidth_byte_per_s * cal.sram_efficiency)
    # NOTE: a bulk-synchronous design (Graphcore IPU) alternates compute, sync and
    # exchange phases (Graphcore's BSP execution model), so its exchange adds to compute
    # time instead of overlapping it; reads of a tile's own memory feed its arithmetic in
    # the compute phase and overlap it (docs/essay-systems.md).
    bulk_synchronous = colb(~dz.exchange_overlaps_compute) & rowb(is_dataflow)
    e_flop = dz.energy_per_flop_j[:, prec]
    transport = cal.offchip_transport_energy_per_byte_j
    needs_link = (rowb(kind == K.KIND_COLLECTIVE)) & (rowb(oa.link_bytes))
    e_link = (np.where(rowb(kind == K.KIND_TRANSFER), row(oa.link_bytes), 0.0)
              * col(dz.energy_per_byte_host_link_j)
              + np.where(needs_link, row(oa.link_bytes), 0.0)
              * col(dz.energy_per_byte_interconnect_j))

    def traffic(recompute: np.ndarray | bool) -> _Traffic:
        """Bytes, times at boost clock and energy of every operator: a backward pass
        recomputes its saved activations where `recompute`, else refetches them."""
        act = np.where(recompute, np.maximum(0.0, act_offchip - avoided), act_offchip)
        flops = np.where(recompute, flops_exec + redo_share * row(oa.recompute_flops),
                         flops_exec)
        by_level = {
            lvl: np.where(act_at[lvl], act, 0.0) + weight_reads * col(w_frac[lvl])
            for lvl in (BOUND_HBM, BOUND_DDR)
        }
        tiles_b = flops * tile_bytes_per_flop
        by_level[BOUND_SRAM] = tiles_b + operand_bytes + np.where(act_at[BOUND_SRAM], act, 0.0)
        t_hbm = np.where(by_level[BOUND_HBM] > 0, by_level[BOUND_HBM] / (hbm_bw + 1e-30), 0.0)
        t_ddr = np.where(by_level[BOUND_DDR] > 0, by_level[BOUND_DDR] / (ddr_bw + 1e-30), 0.0)
        t_exchange = tiles_b / exchange_bw
        t_local = (by_level[BOUND_SRAM] - tiles_b) / sram_bw
        e_mem = (
            by_level[BOUND_SRAM] * col(dz.energy_per_byte_sram_j)
            + by_level[BOUND_HBM] * col(dz.energy_per_byte_hbm_j + transport)
            + by_level[BOUND_DDR] * col(dz.energy_per_byte_ddr_j + transport)
            + e_link
        )
        return _Traffic(
            flops=flops, bytes_by_level=by_level, t_compute=flops / rate, t_hbm=t_hbm,
            t_ddr=t_ddr, t_sram=t_exchange + t_local,
            t_serial=np.where(bulk_synchronous, t_exchange, 0.0),
            t_sram_parallel=np.where(bulk_synchronous, t_local, t_exchange + t_local),
            e_comp=flops * e_flop, e_mem=e_mem)

    # --- host-side operators, collectives, reconfiguration -------------------------------
    link_bw = col(dz.host_link_bandwidth_byte_per_s * cal.host_link_efficiency)
    pinned = rowb(oa.transfer_pinned)
    # NOTE: a hardware file's `host.pageable_bandwidth_fraction` (a measured property of
    # that host and driver) wins over the calibration's share, which is fitted on the H100
    # copies (0.33 h2d / 0.25 d2h of pinned) and stands for every design that leaves the
    # field unset, as every shipped preset does (tests/golden pins that).
    pageable = np.where(np.isnan(dz.host_pageable_bandwidth_fraction),
                        cal.pageable_bandwidth_fraction, dz.host_pageable_bandwidth_fraction)
    t_transfer = col(dz.host_link_latency_s) + row(oa.link_bytes) / (
        link_bw * np.where(pinned, 1.0, col(pageable))
    )
    intra = row(oa.participants) <= col(dz.chips_per_node)
    coll_bw = np.where(
        intra, col(dz.chip_to_chip_bandwidth_byte_per_s), col(dz.node_to_node_bandwidth_byte_per_s)
    ) * cal.collective_efficiency
    coll_lat = np.where(intra, col(dz.chip_to_chip_latency_s), col(dz.node_to_node_latency_s))
    no_link = needs_link & (coll_bw <= 0)
    for d in np.flatnonzero(no_link.any(axis=1)):
        reasons[d].append("collective needs chip-to-chip links the design does not have")
    t_link = np.where(
        needs_link, row(oa.link_latency_steps) * coll_lat + row(oa.link_bytes) / np.where(
            coll_bw > 0, coll_bw, 1.0), 0.0
    )
    scalar_on_device = colb(dz.device_scalar_control)
    is_host_control = rowb((kind == K.KIND_SYNC) | (kind == K.KIND_SCALAR_READBACK))

    overhead = np.where(rowb(is_dataflow), cal.kernel_device_overhead_s, 0.0)
    fused = (colb(dz.spatial_fusion)) & chained
    overhead = np.where(fused, 0.0, overhead)
    budget_w = col(dz.tdp_w - dz.idle_w)
    min_clock = col(dz.min_clock_fraction)
    # Prefetch of the next operator's weights on scratchpad designs: the fetch runs while
    # this operator computes, filling the slack its own memory traffic leaves. Only slack
    # is used, so prefetching never makes an operator slower.
    prefetchable = (
        colb(dz.sram_is_scratchpad)
        & rowb(is_dataflow & prev_dataflow)
        & (weights_exec <= col(act_room) / 2)
    )

    def schedule(c: _Traffic) -> _Schedule:
        """Prefetch, device times at boost and the sustained power-capped clock."""
        t_hbm, t_ddr = c.t_hbm.copy(), c.t_ddr.copy()
        slack = np.maximum(
            0.0, c.t_compute + c.t_serial - np.maximum(np.maximum(t_hbm, t_ddr),
                                                       c.t_sram_parallel))
        slack_before = np.concatenate([np.zeros((n_designs, 1)), slack[:, :-1]], axis=1)
        for lvl, t_lvl in ((BOUND_HBM, t_hbm), (BOUND_DDR, t_ddr)):
            lvl_bw = hbm_bw if lvl == BOUND_HBM else ddr_bw
            own = np.where(prefetchable, weight_reads * col(w_frac[lvl]) / (lvl_bw + 1e-30),
                           0.0)
            hidden = np.minimum(own, slack_before)
            t_lvl -= hidden
            t_lvl += np.concatenate([hidden[:, 1:], np.zeros((n_designs, 1))], axis=1)
        t_mem = np.maximum(np.maximum(t_hbm, t_ddr), c.t_sram_parallel)
        host_dev_time = np.select(
            [rowb(kind == K.KIND_TRANSFER), is_host_control, rowb(kind == K.KIND_RECONFIGURE),
             rowb(kind == K.KIND_COLLECTIVE)],
            [t_transfer,
             np.where(scalar_on_device, cal.device_scalar_op_s, cal.kernel_device_overhead_s),
             np.where(colb(dz.spatial_fusion), col(dz.reconfiguration_s), 0.0),
             np.maximum(t_link, t_mem)],
            default=0.0,
        )
        r_sustained = _capped_clock(
            c.e_comp, c.e_mem, c.t_compute,
            np.where(rowb(is_dataflow), t_mem, host_dev_time),
            c.t_serial,
            np.where(rowb(is_dataflow), overhead, 0.0),
            budget_w,
        )
        return _Schedule(c, t_hbm, t_ddr, t_mem, host_dev_time,
                         np.clip(r_sustained, min_clock, 1.0))

    def device_times(sc: _Schedule, r: np.ndarray) -> np.ndarray:
        """Device busy time per operator, all repeats, at clock fraction r."""
        dataflow_t = np.maximum(sc.traffic.t_compute / r + sc.traffic.t_serial,
                                sc.t_mem) + overhead
        return np.where(rowb(is_dataflow), dataflow_t, sc.host_dev_time) * count

    # --- host issue and the asynchronous pipeline ------------------------------------------
    has_host_control = bool(_HOST_CONTROL[kind].any())
    # Syncs, read-backs and reconfigurations pay only the driver launch.
    dispatch = np.array([cal.eager_dispatch_s.get(OP_KINDS[c], 0.0) for c in kind])
    no_issue = fused | rowb(kind == K.KIND_RECONFIGURE)
    shape = (n_designs, n_ops)
    host_plan = HostIssue(
        eager_issue_s=np.where(no_issue, 0.0, col(dz.kernel_launch_s) + row(dispatch)),
        graph_issue_s=np.broadcast_to(
            np.where(no_issue, 0.0, col(dz.graph_launch_per_op_s)), shape),
        graph_start_s=dz.kernel_launch_s,  # one graph launch
        can_capture=graph_captured & dz.graph_capture
        & (dz.device_scalar_control | (not has_host_control)),
        roundtrip_s=np.broadcast_to(
            np.where(is_host_control & ~scalar_on_device, col(dz.sync_roundtrip_s), 0.0), shape),
        blocking=np.broadcast_to((is_host_control & ~scalar_on_device) | (
            rowb(kind == K.KIND_TRANSFER) & ~pinned), shape),
        asynchronous=dz.async_launch,
        count=oa.count,
        phase_start=_phase_start_mask(n_ops, phase_starts),
    )

    # Backward passes refetch saved activations or recompute them, whichever is faster.
    # NOTE: the choice is made on each option's device time at the clock it would run at
    # (its own power-capped clock, raised by the limiter's window like the program's), and
    # recomputing is always an option. A choice made at the boost clock, or only where the
    # activations do not fit on chip, let a design with more bandwidth or SRAM take the
    # option that is slower under its power cap (issue 11: 2x HBM bandwidth made a
    # ResNet-like backward 23 % slower, its clock falling from 0.51 to 0.30 of boost).
    plain = traffic(False)
    can_recompute = rowb(oa.saved_activation_bytes > 0) & rowb(oa.recompute_flops > 0)
    redo = traffic(can_recompute) if can_recompute.any() else plain

    def option_time(c: _Traffic, burst: np.ndarray) -> np.ndarray:
        t_mem_c = np.maximum(np.maximum(c.t_hbm, c.t_ddr), c.t_sram_parallel)
        r = np.clip(_capped_clock(c.e_comp, c.e_mem, c.t_compute, t_mem_c, c.t_serial,
                                  overhead, budget_w), min_clock, 1.0)
        r = r + (1.0 - r) * col(burst)
        return np.maximum(c.t_compute / r + c.t_serial, t_mem_c) + overhead

    def choose(burst: np.ndarray) -> np.ndarray:
        if redo is plain:
            return np.zeros((1, n_ops), dtype=bool)
        return can_recompute & (option_time(redo, burst) < option_time(plain, burst))

    def with_recompute(where: np.ndarray) -> _Traffic:
        return plain.select(redo, where) if where.any() else plain

    recompute = choose(np.zeros(n_designs))
    sched = schedule(with_recompute(recompute))
    _, total_sustained, _ = fastest_issue(device_times(sched, sched.r_sustained), host_plan)
    limiter_active_s = (total_sustained * back_to_back_runs if math.isfinite(back_to_back_runs)
                        else np.where(total_sustained > 0, math.inf, 0.0))
    burst = np.minimum(1.0, cal.power_limiter_window_s / np.maximum(limiter_active_s, 1e-12))
    if burst.any() and redo is not plain:
        at_burst = choose(burst)
        if (at_burst != recompute).any():
            sched = schedule(with_recompute(at_burst))
    r_eff = sched.r_sustained + (1.0 - sched.r_sustained) * col(burst)
    dev_time = device_times(sched, r_eff)
    elapsed, total, graph_mode = fastest_issue(dev_time, host_plan)
    issue = np.where(colb(graph_mode), host_plan.graph_issue_s, host_plan.eager_issue_s)
    chosen = sched.traffic
    t_compute, t_sram, t_hbm, t_ddr, t_mem = (
        chosen.t_compute, chosen.t_sram, sched.t_hbm, sched.t_ddr, sched.t_mem)
    e_comp, e_mem, bytes_lvl = chosen.e_comp, chosen.e_mem, chosen.bytes_by_level

    # --- energy ----------------------------------------------------------------------------
    dyn = (e_comp * r_eff**2 + e_mem) * count
    energy = dyn + col(dz.idle_w) * elapsed
    total_energy = energy.sum(axis=1)

    # --- what bounds each operator ------------------------------------------------------------
    device_bound = np.argmax(
        np.stack([t_compute / r_eff, t_sram, t_hbm, t_ddr]), axis=0
    )  # 0..3 = compute, sram, hbm, ddr
    bound = np.select(
        [rowb(kind == K.KIND_COLLECTIVE),
         rowb((kind == K.KIND_TRANSFER) | (kind == K.KIND_SYNC)
             | (kind == K.KIND_SCALAR_READBACK)),
         rowb(kind == K.KIND_RECONFIGURE)],
        [np.where(t_link >= t_mem, BOUND_INTERCONNECT, device_bound),
         np.where(is_host_control & scalar_on_device, BOUND_COMPUTE, BOUND_HOST),
         BOUND_COMPUTE],
        default=device_bound,
    )
    waiting_on_host = (elapsed - dev_time) > dev_time
    bound = np.where(waiting_on_host, BOUND_HOST, bound).astype(np.int8)

    busy = np.maximum(dev_time.sum(axis=1), 1e-30)
    clock = (r_eff * dev_time).sum(axis=1) / busy
    feasible = np.array([not r for r in reasons])
    flops_total = (np.broadcast_to(row(oa.flops), (n_designs, n_ops)) * count)[0]
    offchip = (bytes_lvl[BOUND_HBM] + bytes_lvl[BOUND_DDR]) * count
    return ProgramResult(
        design_names=dz.names,
        op_kinds=tuple(OP_KINDS[c] for c in kind),
        time_s=elapsed,
        device_time_s=dev_time,
        host_issue_s=np.broadcast_to(issue * count, (n_designs, n_ops)).copy(),
        energy_j=energy,
        bound_by=bound,
        flops=flops_total,
        bytes_offchip=offchip,
        bytes_by_level={
            "sram": bytes_lvl[BOUND_SRAM] * count,
            "hbm": bytes_lvl[BOUND_HBM] * count,
            "ddr": bytes_lvl[BOUND_DDR] * count,
        },
        clock_fraction_by_op=r_eff,
        total_time_s=total,
        total_energy_j=total_energy,
        average_power_w=total_energy / np.maximum(total, 1e-30),
        clock_fraction=clock,
        idle_w=np.asarray(dz.idle_w, dtype=float),
        feasible=feasible,
        reasons=tuple(tuple(r) for r in reasons),
    )
