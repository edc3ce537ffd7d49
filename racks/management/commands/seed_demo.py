"""Demo data: one site with a legacy hall and an AI hall. Idempotent: a rerun leaves the same state.

Ratings come from the reference where it has them (floor ratings §5.2, PDU feeds §4.6, rear-door bands
§3, RDHx water temperature §2.2, energy price §7.2, PUE §7.1). Unit capacities of CRAH units and CDUs, rack
frame ratings and the power chain are this demo site's own design values, not catalogue facts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from cooling.models import CoolingLoop
from planner import services
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

LBF_FT2_TO_KG_M2 = 4.88243  # 1 lbf/ft2 = 47.880 Pa / 9.80665 (reference §0.2)
LBF_TO_KG = 1 / 2.20462

DEMO_USERS = [
    # username, password, role, superuser
    ("admin", "admin-demo-pass", None, True),
    ("engineer", "engineer-demo-pass", "facilities", False),
    ("buyer", "buyer-demo-pass", "procurement", False),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo site: a legacy raised-floor hall and an AI hall, with demo users."

    def add_arguments(self, parser):
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo users.")

    def handle(self, *args, **options):
        with transaction.atomic():
            site = self._site()
        # Placements go through the service (its own transaction) so every demo node passes the rules.
        self._place(site)
        if not options["no_users"]:
            if not settings.DEBUG:
                self.stderr.write("Not creating demo users with well-known passwords while DEBUG is off.")
            else:
                self._users()
        racks = Rack.objects.filter(row__room__site=site).count()
        nodes = Node.objects.filter(rack__row__room__site=site).count()
        self.stdout.write(self.style.SUCCESS(f"Demo site '{site.name}': {racks} racks, {nodes} nodes."))

    def _site(self) -> Site:
        site, _ = Site.objects.update_or_create(
            slug="demo-campus",
            defaults={
                "name": "Demo Campus",
                "country": "US",
                "utility_capacity_kw": 3000.0,
                "power_derating": 0.8,  # NEC 210.20(A) 80 % continuous load (reference §4.5)
                "energy_price_per_kwh": 0.0895,  # Virginia commercial 2023, EIA (reference §7.2, P [S55])
                "carbon_kg_per_kwh": None,  # no sourced grid intensity in the reference: set your own
                "design_pue": 1.58,  # Uptime 2023 industry average (reference §7.1, P [S25])
            },
        )
        utility = self._source(site, "Utility", "utility", 3000.0, None)
        ups_a = self._source(site, "UPS-A", "ups", 1400.0, utility)
        ups_b = self._source(site, "UPS-B", "ups", 1400.0, utility)
        legacy_a = self._source(site, "Panel Legacy-A", "panel", 250.0, ups_a)
        legacy_b = self._source(site, "Panel Legacy-B", "panel", 250.0, ups_b)
        ai_a = self._source(site, "Busway AI-A", "busway", 1100.0, ups_a)
        ai_b = self._source(site, "Busway AI-B", "busway", 1100.0, ups_b)

        legacy, _ = Room.objects.update_or_create(
            site=site,
            name="Legacy Hall",
            defaults={
                "floor_type": "raised",
                # Tate All Steel 1000: 250 lbf/ft2 uniform, 1,000 lbf concentrated (reference §5.2, P [S40])
                "floor_rated_load_kg_m2": round(250 * LBF_FT2_TO_KG_M2, 1),
                "tile_rated_load_kg": round(1000 * LBF_TO_KG, 1),
                "floor_load_method": "footprint",
            },
        )
        ai_hall, _ = Room.objects.update_or_create(
            site=site,
            name="AI Hall",
            defaults={
                "floor_type": "slab",
                # 12 kPa slab, TIA-942 Rated-3 / TIA-569 (reference §5.2, S [S37], P [S36])
                "floor_rated_load_kg_m2": round(12000 / 9.80665, 1),
                "tile_rated_load_kg": None,
                "floor_load_method": "half_aisle",
            },
        )

        legacy_racks = []
        for r in (1, 2):
            row, _ = Row.objects.update_or_create(
                room=legacy, name=f"L{r}", defaults={"containment": "none", "aisle_width_mm": 1200}
            )
            for p in range(1, 9):
                rack = self._rack(row, f"L{r}-{p:02d}", p, max_load_kg=1000.0, empty_weight_kg=120.0)
                # 208 V 3-phase 30 A: 8.646 kW usable at 80 % (reference §4.6)
                self._pdu(rack, "PDU-A", "A", 3, 208.0, 30.0, legacy_a)
                self._pdu(rack, "PDU-B", "B", 3, 208.0, 30.0, legacy_b)
                legacy_racks.append(rack)
        self._loop(site, legacy, "Legacy CRAH", "crah", 90.0, 4, 1, 22.0, 12.0, "air", None, [])

        ai_air_racks, ai_liquid_racks = [], []
        row_air, _ = Row.objects.update_or_create(
            room=ai_hall, name="A1", defaults={"containment": "hot_aisle", "aisle_width_mm": 1200}
        )
        row_liquid, _ = Row.objects.update_or_create(
            room=ai_hall, name="A2", defaults={"containment": "hot_aisle", "aisle_width_mm": 1200}
        )
        for p in range(1, 9):
            rack = self._rack(row_air, f"A1-{p:02d}", p, max_load_kg=1400.0, empty_weight_kg=150.0)
            # Two 415 V 3-phase 63 A PDUs per side: 2 x 36.228 = 72.46 kW per side (reference §4.6)
            for i in (1, 2):
                self._pdu(rack, f"PDU-A{i}", "A", 3, 415.0, 63.0, ai_a)
                self._pdu(rack, f"PDU-B{i}", "B", 3, 415.0, 63.0, ai_b)
            ai_air_racks.append(rack)
        for p in range(1, 7):
            rack = self._rack(row_liquid, f"A2-{p:02d}", p, max_load_kg=1400.0, empty_weight_kg=150.0)
            # Four per side for rack-scale systems: 4 x 36.228 = 144.9 kW per side >= 132 kW GB200 NVL72
            for i in (1, 2, 3, 4):
                self._pdu(rack, f"PDU-A{i}", "A", 3, 415.0, 63.0, ai_a)
                self._pdu(rack, f"PDU-B{i}", "B", 3, 415.0, 63.0, ai_b)
            ai_liquid_racks.append(rack)
        self._loop(site, ai_hall, "AI CRAH", "crah", 120.0, 4, 1, 24.0, 12.0, "air", None, [])
        # Active rear doors on the first four air racks: HPE/Motivair 35-55 kW band (reference §3, P* [S48]);
        # 18 C water keeps the coil above an A1 room's 17 C dew point (IBM RDHx, reference §2.2, P [S57]).
        self._loop(site, ai_hall, "RDHx A1", "rear_door", 55.0, 4, 0, 18.0, 6.0, "water", None, ai_air_racks[:4])
        # Direct-liquid TCS loop for row A2: CDUs N+1, PG25 (reference §3 CDU sizes, §4.3 PG25).
        self._loop(site, ai_hall, "CDU A2", "direct_liquid", 400.0, 3, 1, 30.0, 10.0, "pg25", 1400.0, ai_liquid_racks)
        return site

    def _place(self, site: Site) -> None:
        models = {m.slug: m for m in NodeModel.objects.all()}
        plan = [
            # rack, model, quantity
            *[(f"L1-{p:02d}", "cpu-2u", 5) for p in range(1, 9)],
            *[(f"L2-{p:02d}", "cpu-2u", 4) for p in range(1, 5)],
            ("A1-01", "dgx-h100", 4),
            ("A1-02", "dgx-h100", 4),
            ("A1-03", "dgx-b200", 3),
            ("A1-05", "dgx-a100", 1),
            ("A2-01", "gb200-nvl72", 1),
        ]
        racks = {r.name: r for r in Rack.objects.filter(row__room__site=site)}
        for rack_name, slug, quantity in plan:
            rack = racks[rack_name]
            have = Node.objects.filter(rack=rack, model__slug=slug).count()
            if have < quantity:
                status = "installed"
                services.nodes_place(rack_id=rack.id, model_id=models[slug].id, quantity=quantity - have, status=status)

    def _users(self) -> None:
        for username, password, role, superuser in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = (
                    User.objects.create_superuser(username, f"{username}@example.com", password)
                    if superuser
                    else User.objects.create_user(username, password=password)
                )
            if role:
                user.groups.add(Group.objects.get(name=role))
            token, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(
                f"  demo user {username} / {password}"
                + (f" ({role})" if role else " (admin)")
                + f"  API token: {token.key}"
            )

    @staticmethod
    def _source(site, name, kind, capacity_kw, parent) -> PowerSource:
        source, _ = PowerSource.objects.update_or_create(
            site=site, name=name, defaults={"kind": kind, "capacity_kw": capacity_kw, "parent": parent}
        )
        return source

    @staticmethod
    def _rack(row, name, position, *, max_load_kg, empty_weight_kg) -> Rack:
        rack, _ = Rack.objects.update_or_create(
            row=row,
            name=name,
            defaults={"position": position, "max_load_kg": max_load_kg, "empty_weight_kg": empty_weight_kg},
        )
        return rack

    @staticmethod
    def _pdu(rack, name, side, phases, voltage_v, current_a, source) -> Pdu:
        pdu, _ = Pdu.objects.update_or_create(
            rack=rack,
            name=name,
            defaults={
                "side": side,
                "phases": phases,
                "voltage_v": voltage_v,
                "current_a": current_a,
                "power_factor": 1.0,
                "source": source,
            },
        )
        return pdu

    @staticmethod
    def _loop(site, room, name, kind, unit_kw, units, redundant, supply_c, delta_t_c, fluid, max_flow, racks):
        loop, _ = CoolingLoop.objects.update_or_create(
            site=site,
            name=name,
            defaults={
                "room": room,
                "kind": kind,
                "unit_capacity_kw": unit_kw,
                "units": units,
                "redundant_units": redundant,
                "supply_temp_c": supply_c,
                "delta_t_c": delta_t_c,
                "fluid": fluid,
                "max_flow_lpm": max_flow,
            },
        )
        loop.racks.set(racks)
        return loop
