"""Which sampled points build the same design (`dse.distinct`), on the shipped SRAM-vs-HBM
space whose two routes each leave one parameter unused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dse.distinct import DesignKeys, group_by_design
from dse.space import load_space

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "sram_vs_hbm.yaml"
HBM = {"memory_route": "hbm", "sram_capacity_mib": 64, "clock_mhz": 1500, "hbm_stacks": 5,
       "ddr_channels": 8}
DDR = {**HBM, "memory_route": "ddr"}


@pytest.fixture(scope="module")
def keys() -> DesignKeys:
    return DesignKeys(load_space(SPACE))


def test_the_route_not_taken_does_not_make_another_design(keys):
    assert keys.key(HBM) == keys.key({**HBM, "ddr_channels": 28})
    assert keys.key(DDR) == keys.key({**DDR, "hbm_stacks": 1})
    # numpy scalars (as Parquet and the samplers hand them back) are the same values
    assert keys.key(HBM) == keys.key({**HBM, "hbm_stacks": np.int64(5), "clock_mhz": 1500.0})


def test_every_parameter_the_route_uses_makes_another_design(keys):
    assert keys.key(HBM) != keys.key({**HBM, "hbm_stacks": 6})
    assert keys.key(DDR) != keys.key({**DDR, "ddr_channels": 12})
    assert keys.key(HBM) != keys.key(DDR)
    assert keys.key(HBM) != keys.key({**HBM, "sram_capacity_mib": 80})


def test_acting_parameters_are_read_from_the_built_hardware(keys):
    assert keys.acting(HBM) == ("memory_route", "sram_capacity_mib", "clock_mhz", "hbm_stacks")
    assert keys.acting(DDR) == ("memory_route", "sram_capacity_mib", "clock_mhz",
                                "ddr_channels")


def test_groups_name_every_trial_of_a_design_under_its_first():
    groups = group_by_design([7, 3, 9, 4, 5], ["a", "b", "a", None, None])
    assert groups == {3: (3,), 4: (4,), 5: (5,), 7: (7, 9)}
