"""Activations a training step keeps live from its forward to its backward pass.

A backward pass needs tensors its forward pass produced (a convolution's input, a
batch-norm's input and output: `saved_activation_bytes` per operator). They are all live
at once, at the turn from forward to backward, so on a design whose software keeps
activations on chip (a scratchpad, a fused dataflow) they share the SRAM left beside the
resident data. What does not fit is written to the activation level (HBM, else DDR) in
the forward pass and read back in the backward pass -- or recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def live_saved_bytes(saved_bytes: np.ndarray, count: np.ndarray,
                     phase_starts: Sequence[int]) -> np.ndarray:
    """`(n_ops,)`: bytes saved for the backward pass by all operators of each operator's
    phase (a phase is one forward + backward: a micro-batch, a step)."""
    n_ops = saved_bytes.shape[0]
    starts = np.asarray(sorted({int(s) for s in phase_starts if 0 < s < n_ops}), dtype=int)
    phase = np.searchsorted(starts, np.arange(n_ops), side="right")
    per_phase = np.bincount(phase, weights=np.asarray(saved_bytes * count, dtype=float))
    return np.asarray(per_phase[phase], dtype=float)


def spill_share(live_bytes: np.ndarray, room_bytes: np.ndarray) -> np.ndarray:
    """`(n_designs, n_ops)`: share of every saved tensor of a phase that does not fit the
    SRAM room `(n_designs,)` beside the resident data.

    NOTE: the share is of the phase's whole live set, whether or not an operator's own
    input stays on chip, so more room never raises any operator's share (a share taken
    over only the tensors kept on chip would rise when a large one starts to fit, moving
    traffic onto other operators). Software that spills picks which tensors go; charging
    each the same share gives the same bytes in total.
    """
    live = np.asarray(live_bytes, dtype=float)[None, :]
    room = np.asarray(room_bytes, dtype=float)[:, None]
    share = 1.0 - room / np.where(live > 0, live, 1.0)
    return np.asarray(np.where(live > 0, np.clip(share, 0.0, 1.0), 0.0), dtype=float)
