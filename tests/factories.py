"""factory_boy factories for the physical model. Values are plain demo figures unless a test says otherwise."""

import factory

from cooling.models import CoolingLoop
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    slug = factory.Sequence(lambda n: f"site-{n}")
    utility_capacity_kw = None
    power_derating = 0.8


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    floor_type = "slab"
    floor_rated_load_kg_m2 = 1224.0  # 12 kPa, TIA-942 Rated-3 (reference §5.2, S [S37])


class RowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Row

    room = factory.SubFactory(RoomFactory)
    name = factory.Sequence(lambda n: f"Row {n}")
    containment = "none"


class RackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rack

    row = factory.SubFactory(RowFactory)
    name = factory.Sequence(lambda n: f"R{n:03d}")
    position = factory.Sequence(lambda n: n + 1)
    max_load_kg = 1400.0
    empty_weight_kg = 150.0


class PowerSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PowerSource

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"UPS {n}")
    kind = "ups"
    capacity_kw = 1000.0


class PduFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pdu

    rack = factory.SubFactory(RackFactory)
    name = factory.Sequence(lambda n: f"PDU {n}")
    side = "A"
    phases = 3
    voltage_v = 415.0
    current_a = 63.0
    power_factor = 1.0


class CoolingLoopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoolingLoop

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Loop {n}")
    kind = "crah"
    unit_capacity_kw = 100.0
    units = 3
    redundant_units = 1
    supply_temp_c = 22.0
    delta_t_c = 10.0
    fluid = "air"


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    rack = factory.SubFactory(RackFactory)
    model = factory.LazyFunction(lambda: NodeModel.objects.get(slug="cpu-2u"))
    u_position = 1
    name = factory.Sequence(lambda n: f"node-{n}")
