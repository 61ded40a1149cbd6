"""The host issuing a program and the device running it: when each operator finishes.

Each operator is issued by the host (an eager launch, or a replay from a captured graph)
and then runs on the device. With asynchronous launch the host runs ahead of the device,
so launch cost shows only when device work is shorter than it; blocking operators
(syncs and scalar read-backs without device-side scalar control, pageable copies) drain
the device and pay a round trip. All arrays are `(n_designs, n_ops)` unless noted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class HostIssue:
    """How the host issues one program on every design."""

    eager_issue_s: np.ndarray
    """Host time per launch of each operator, eagerly dispatched."""
    graph_issue_s: np.ndarray
    """Host time per launch of each operator replayed from a captured graph."""
    graph_start_s: np.ndarray
    """(n_designs,) launching the captured graph once."""
    can_capture: np.ndarray
    """(n_designs,) bool: the program may run from a captured graph on this design."""
    roundtrip_s: np.ndarray
    blocking: np.ndarray
    asynchronous: np.ndarray
    """(n_designs,) bool."""
    count: np.ndarray
    """(n_ops,) back-to-back repeats of each operator."""
    phase_start: np.ndarray
    """(n_ops,) bool: the operator begins a phase, which the host issues only once the
    device has finished the previous one."""


def pipeline(dev_t: np.ndarray, issue: np.ndarray, roundtrip: np.ndarray,
             blocking: np.ndarray, asynchronous: np.ndarray, start_host: np.ndarray,
             count: np.ndarray, phase_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time each operator adds to completion, completion time) for device times `dev_t`
    (all repeats of an operator) and host issue costs `issue` (per repeat).

    NOTE: at the start of a phase the host waits for the device (a phase ends with its
    results in hand: a decode step's sampled token, a training step's loss), so no phase
    inherits the lead the host built up during the one before. Evaluators multiply a
    phase's time by its repeats (1,023 decode steps after one prefill); a decode step
    that inherited the prefill's lead was charged too little, and a design with a faster
    prefill lost that lead and was charged more (issue 11: 2x SRAM bandwidth made a
    batch-1 Llama 3 8B decode 1.5x slower per token).
    """
    n_designs, n_ops = dev_t.shape
    if n_designs * n_ops <= SCAN_MAX_CELLS:
        return _pipeline_scan(dev_t, issue, roundtrip, blocking, asynchronous, start_host,
                              count, phase_start)
    host = start_host.copy()
    dev = np.zeros(n_designs)
    elapsed = np.zeros((n_designs, n_ops))
    done = np.zeros(n_designs)  # the graph launch, if any, counts to the first operator
    for o in range(n_ops):
        c = float(count[o])
        if phase_start[o]:
            host = np.maximum(host, dev)
        h, d, rt = issue[:, o], dev_t[:, o] / c, roundtrip[:, o]
        blk = blocking[:, o]
        # blocking: drain, then each repeat pays launch + device + round trip
        b_end = np.maximum(dev, host + h) + d + rt + (c - 1) * (h + d + rt)
        # asynchronous launch: the host runs ahead; repeat j starts no earlier than
        # host + j h (the latest of those constraints is at the first or last repeat)
        a_end = np.maximum(dev + c * d, np.maximum(host + h + c * d, host + c * h + d))
        # synchronous launch: the host waits for every operator
        s_end = np.maximum(dev, host) + c * (h + d)
        end = np.where(blk, b_end, np.where(asynchronous, a_end, s_end))
        host = np.where(blk | ~asynchronous, end, host + c * h)
        dev = end
        now = np.maximum(host, dev)
        elapsed[:, o] = now - done
        done = now
    return elapsed, np.maximum(host, dev)


# NOTE: below this many design x operator cells the loop above spends its time in numpy's
# per-call overhead (about 15 calls per operator on arrays of a few designs: 18 % of an
# in-process search on sram_vs_hbm), so the same recurrence runs as a prefix scan in
# log2(operators) steps; above it the scan's n log n work costs more than the loop.
SCAN_MAX_CELLS = 4096


def _pipeline_scan(dev_t: np.ndarray, issue: np.ndarray, roundtrip: np.ndarray,
                   blocking: np.ndarray, asynchronous: np.ndarray, start_host: np.ndarray,
                   count: np.ndarray, phase_start: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`pipeline` as a max-plus prefix scan: each operator maps the (host, device) clocks
    to new ones by maxima of sums, i.e. by a 2 x 2 max-plus matrix, and the clocks after
    operator o are the product of the matrices up to o applied to the start.

    The matrices, for host clock x and device clock y (per repeat: launch h, device d,
    round trip r, c repeats): asynchronous x' = x + c h, y' = max(x + max(h + c d,
    c h + d), y + c d); blocking x' = y' = max(x + h + B, y + B) with B = d + r + (c - 1)
    (h + d + r); synchronous x' = y' = max(x, y) + c (h + d); a phase start first sets
    x = max(x, y). Sums are taken in another order than the loop's, so results agree to
    rounding (tests/core/test_host.py).
    """
    n_designs, n_ops = dev_t.shape
    c = np.asarray(count, dtype=float)[None, :]
    h = np.broadcast_to(issue, (n_designs, n_ops))
    d = dev_t / c
    rt = np.broadcast_to(roundtrip, (n_designs, n_ops))
    blk = np.broadcast_to(blocking, (n_designs, n_ops))
    asy = np.broadcast_to(np.asarray(asynchronous, dtype=bool)[:, None], (n_designs, n_ops))
    block_b = d + rt + (c - 1.0) * (h + d + rt)
    serial = c * (h + d)
    m00 = np.where(blk, h + block_b, np.where(asy, c * h, serial))
    m01 = np.where(blk, block_b, np.where(asy, -np.inf, serial))
    m10 = np.where(blk, h + block_b, np.where(asy, np.maximum(h + c * d, c * h + d), serial))
    m11 = np.where(blk, block_b, np.where(asy, c * d, serial))
    start = np.asarray(phase_start, dtype=bool)[None, :]
    m01 = np.where(start, np.maximum(m00, m01), m01)
    m11 = np.where(start, np.maximum(m10, m11), m11)
    shift = 1
    while shift < n_ops:
        # later (o) after earlier (o - shift): C = A (x) B, C_ij = max_k A_ik + B_kj
        a00, a01, a10, a11 = (m[:, shift:] for m in (m00, m01, m10, m11))
        b00, b01, b10, b11 = (m[:, :-shift] for m in (m00, m01, m10, m11))
        m00, m01, m10, m11 = (
            np.concatenate([m[:, :shift], v], axis=1) for m, v in (
                (m00, np.maximum(a00 + b00, a01 + b10)), (m01, np.maximum(a00 + b01, a01 + b11)),
                (m10, np.maximum(a10 + b00, a11 + b10)), (m11, np.maximum(a10 + b01, a11 + b11))))
        shift *= 2
    x0 = np.asarray(start_host, dtype=float)[:, None]
    now = np.maximum(np.maximum(m00 + x0, m01), np.maximum(m10 + x0, m11))
    now = np.maximum.accumulate(now, axis=1)  # rounding must not make a clock run back
    elapsed = np.diff(now, axis=1, prepend=0.0)
    return elapsed, now[:, -1].copy()


def fastest_issue(dev_t: np.ndarray, plan: HostIssue
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(elapsed per operator, completion time, graph mode used) with each design issuing
    the program the faster way it can: from a captured graph or eagerly.

    NOTE: capturing a graph is the runtime's choice, and it captures only where that is
    faster. Always replaying a graph when one could be captured made a design slower
    when it gained graph capture (issue 11: a one-operator program with a scalar read-back
    took 8.2 us instead of 4.3 us, as the graph launch plus its per-operator replay cost
    more than one eager launch). Ties go to the graph, as before.
    """
    n_designs = dev_t.shape[0]
    capture = np.flatnonzero(plan.can_capture)
    if capture.size == 0:
        elapsed, total = pipeline(dev_t, plan.eager_issue_s, plan.roundtrip_s, plan.blocking,
                                  plan.asynchronous, np.zeros(n_designs), plan.count,
                                  plan.phase_start)
        return elapsed, total, np.zeros(n_designs, dtype=bool)
    rows = np.concatenate([np.arange(n_designs), capture])
    graph = np.concatenate([np.zeros(n_designs, dtype=bool), np.ones(capture.size, dtype=bool)])
    issue = np.where(graph[:, None], plan.graph_issue_s[rows], plan.eager_issue_s[rows])
    start = np.where(graph, plan.graph_start_s[rows], 0.0)
    elapsed, total = pipeline(dev_t[rows], issue, plan.roundtrip_s[rows], plan.blocking[rows],
                              plan.asynchronous[rows], start, plan.count, plan.phase_start)
    use_graph = np.zeros(n_designs, dtype=bool)
    use_graph[capture] = total[n_designs:] <= total[capture]
    out_elapsed = elapsed[:n_designs].copy()
    out_total = total[:n_designs].copy()
    chosen = np.flatnonzero(use_graph)
    graph_rows = n_designs + np.searchsorted(capture, chosen)
    out_elapsed[chosen] = elapsed[graph_rows]
    out_total[chosen] = total[graph_rows]
    return out_elapsed, out_total, use_graph
