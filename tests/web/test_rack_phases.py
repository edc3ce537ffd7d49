"""The rack page shows each PDU's per-phase current (POWER_PHASE's figures)."""

import pytest

from racks.models import NodeModel
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_rack_page_shows_per_phase_current(fac_client):
    rack = f.RackFactory(u_height=42, max_load_kg=2000)
    for side in ("A", "B"):
        f.PduFactory(rack=rack, name=f"PDU-{side}", side=side, current_a=32.0)
    f.NodeFactory(rack=rack, model=NodeModel.objects.get(slug="dgx-h100"), u_position=1, name="h1")
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    # DGX H100 (6 x C19 cords, §1.2): 3 per side, 10.2 / 3 = 3.4 kW on each phase with the whole rack on a side:
    # 3400 / (415 / sqrt(3) = 239.60 V) = 14.19 A of 32 A x 0.8 = 25.60 A.
    assert '<span data-phase="L1">L1 14.19 A</span>' in html and "of 25.60 A derated" in html
    assert "cords unsourced" not in html


def test_rack_page_says_when_cords_are_unsourced(fac_client):
    rack = f.RackFactory(u_height=42, max_load_kg=2000)
    f.PduFactory(rack=rack, name="PDU-A", side="A", phases=1, voltage_v=230.0, current_a=32.0)
    f.NodeFactory(rack=rack, model=NodeModel.objects.get(slug="dgx-b200"), u_position=1, name="b1")
    html = fac_client.get(f"/racks/{rack.pk}/").content.decode()
    # B200 cords not in the reference: 14.3 kW on the one phase, 14300 / 230 = 62.17 A of 32 x 0.8 = 25.60 A.
    assert '<span data-phase="L1">L1 62.17 A</span>' in html and "(cords unsourced: spread evenly)" in html
