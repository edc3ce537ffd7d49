import copy

import pytest

from tests.netbox.server import FakeNetBox, load_lists

# Figures for the three device types whose NetBox record lacks what the check needs (no power ports, or
# power ports without maximum_draw). Made up for these tests: they stand for what a user would enter.
TEST_FIGURES = {
    "nvidia-sn5600": {"max_power_kw": 1.5},
    "nvidia-qm9700": {"max_power_kw": 1.2},
    "lenovo-thinksystem-sr680a-v3": {"max_power_kw": 10.0},
}


@pytest.fixture
def lists():
    return copy.deepcopy(load_lists())


@pytest.fixture
def netbox(lists):
    fake = FakeNetBox(lists)
    fake.url = fake.start()
    yield fake
    fake.stop()
