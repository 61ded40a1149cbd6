"""The host pipeline: the prefix scan small calls use gives the loop's clocks."""

from __future__ import annotations

import numpy as np
import pytest

from dse.core import host


@pytest.mark.parametrize("seed", range(4))
def test_scan_and_loop_agree_on_random_programs(monkeypatch: pytest.MonkeyPatch,
                                                seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        designs, ops = int(rng.integers(1, 8)), int(rng.integers(1, 70))
        count = rng.choice([1, 1, 3, 1000], ops)
        args = (rng.exponential(1e-5, (designs, ops)) * (rng.random((designs, ops)) < 0.9)
                * count,                                                  # device time
                rng.exponential(5e-6, (designs, ops)),                     # issue
                rng.exponential(2e-5, (designs, ops)) * (rng.random((designs, ops)) < 0.3),
                rng.random((designs, ops)) < 0.2,                          # blocking
                rng.random(designs) < 0.6,                                 # asynchronous
                rng.exponential(1e-5, designs) * (rng.random(designs) < 0.5),  # graph start
                count, rng.random(ops) < 0.2)                              # phase starts
        monkeypatch.setattr(host, "SCAN_MAX_CELLS", 0)
        loop_elapsed, loop_total = host.pipeline(*args)
        monkeypatch.setattr(host, "SCAN_MAX_CELLS", 10**9)
        scan_elapsed, scan_total = host.pipeline(*args)
        assert scan_total == pytest.approx(loop_total, rel=1e-12)
        assert np.abs(scan_elapsed - loop_elapsed).max() <= 1e-12 * loop_total.max()
        assert (scan_elapsed >= 0).all()
