"""Headline figures of every site for the site list, in five queries whatever the number of sites or racks.

Per-rack sums are aggregated in SQL; loops, links and PDUs come in one query each; which loops serve a rack
and where its heat goes come from ``planner.selectors.build_site_budgets`` on those rows (the same serving
rules and load flow as every rack check), the rest is the arithmetic of ``planner.web.metrics``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, FloatField, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from cooling.models import CoolingLoop
from planner import engine, selectors
from planner.engine.flow import air_capacity_kw, air_headroom_kw, liquid_capacity_kw, rack_heat_kw
from planner.engine.inputs import CoolingLoopSpec
from planner.engine.units import CLOSE_COUPLED_KINDS
from planner.web.metrics import RackFigures, air_limit_kw, floor_area_m2, near_limit, power_capacity_kw
from racks.models import Node, Pdu, Rack, Site


@dataclass
class SiteHeadline:
    site: Site
    rack_count: int = 0
    it_load_kw: float = 0.0
    usable_power_kw: float = 0.0
    air_heat_kw: float = 0.0
    air_capacity_kw: float = 0.0
    liquid_heat_kw: float = 0.0
    liquid_capacity_kw: float = 0.0
    racks_near_limit: int = 0

    @staticmethod
    def _pct(load: float, cap: float) -> float | None:
        return load / cap * 100 if cap > 0 else None

    @property
    def power_pct(self):
        return self._pct(self.it_load_kw, self.usable_power_kw)

    @property
    def air_pct(self):
        return self._pct(self.air_heat_kw, self.air_capacity_kw)

    @property
    def liquid_pct(self):
        return self._pct(self.liquid_heat_kw, self.liquid_capacity_kw)


def headline_from_figures(site: Site, figures: list[RackFigures], loops: list[tuple[str, float]]) -> SiteHeadline:
    """A site's headline from its racks' figures and its cooling loops as (kind, usable kW) pairs."""
    capacity = sum(f.power_capacity_kw or 0.0 for f in figures)
    if site.utility_capacity_kw is not None:
        capacity = min(capacity, site.utility_capacity_kw)
    return SiteHeadline(
        site=site,
        rack_count=len(figures),
        it_load_kw=sum(f.kw for f in figures),
        usable_power_kw=capacity,
        air_heat_kw=sum(f.air_kw for f in figures),
        air_capacity_kw=air_capacity_kw(loops),
        liquid_heat_kw=sum(f.liquid_kw for f in figures),
        liquid_capacity_kw=liquid_capacity_kw(loops),
        racks_near_limit=sum(1 for f in figures if near_limit(f)),
    )


def site_headlines() -> list[SiteHeadline]:
    sites = list(Site.objects.order_by("name"))
    racks = list(
        Rack.objects.values(
            "id",
            "u_height",
            "width_mm",
            "depth_mm",
            "max_load_kg",
            "empty_weight_kg",
            containment=F("row__containment"),
            air_limit=F("row__air_kw_per_rack_limit"),
            aisle_mm=F("row__aisle_width_mm"),
            room_id=F("row__room_id"),
            floor_rating=F("row__room__floor_rated_load_kg_m2"),
            floor_method=F("row__room__floor_load_method"),
            site_id=F("row__room__site_id"),
        ).annotate(
            kw=Coalesce(Sum("nodes__model__max_power_kw"), 0.0, output_field=FloatField()),
            weight=Coalesce(Sum("nodes__model__weight_kg"), 0.0, output_field=FloatField()),
            rack_scale_weight=Coalesce(
                Sum("nodes__model__weight_kg", filter=Q(nodes__model__rack_scale=True)), 0.0, output_field=FloatField()
            ),
            used_u=Coalesce(Sum("nodes__model__u_height"), Value(0), output_field=IntegerField()),
            rack_scale=Count("nodes", filter=Q(nodes__model__rack_scale=True)),
        )
    )
    # Heat per rack through the engine's one heat function (published heat output or max power), from the
    # nodes counted per (rack, model).
    counts: dict[int, list] = defaultdict(list)
    for rack_id, power, heat, fraction, n in (
        Node.objects.values("rack_id", "model__max_power_kw", "model__heat_output_kw", "model__liquid_fraction")
        .annotate(n=Count("id"))
        .values_list("rack_id", "model__max_power_kw", "model__heat_output_kw", "model__liquid_fraction", "n")
        .order_by()
    ):
        counts[rack_id].append((selectors.ModelHeat(power, heat, fraction), n))
    heat_of = {rack_id: rack_heat_kw(c) for rack_id, c in counts.items()}  # (power, heat, liquid) kW
    derating = {s.id: s.power_derating for s in sites}
    site_of_rack = {r["id"]: r["site_id"] for r in racks}
    pdus_by_rack: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for p in Pdu.objects.values("rack_id", "side", "phases", "voltage_v", "current_a", "power_factor"):
        usable = engine.pdu_usable_kw(
            voltage_v=p["voltage_v"],
            current_a=p["current_a"],
            phases=p["phases"],
            derating=derating[site_of_rack[p["rack_id"]]],
            power_factor=p["power_factor"],
        )
        pdus_by_rack[p["rack_id"]].append((p["side"], usable))
    # Which loops serve which rack, and the heat of every rack through the load flow: the selectors' budgets
    # (their serving rules and planner.engine.flow), built from the rows read here, one site at a time.
    loops = list(CoolingLoop.objects.all())
    loop_site = {lp.id: lp.site_id for lp in loops}
    links_by_site: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for loop_id, rack_id in CoolingLoop.racks.through.objects.values_list("coolingloop_id", "rack_id"):
        links_by_site[loop_site[loop_id]].append((loop_id, rack_id))
    loops_of_site: dict[int, list[CoolingLoop]] = defaultdict(list)
    for lp in loops:
        loops_of_site[lp.site_id].append(lp)
    loads_by_site: dict[int, list[tuple[int, int, float, float, float]]] = defaultdict(list)
    for r in racks:
        _power, heat, liquid = heat_of.get(r["id"], (0.0, 0.0, 0.0))
        loads_by_site[r["site_id"]].append((r["id"], r["room_id"], r["kw"], liquid, heat))
    budgets = {
        site_id: selectors.build_site_budgets(
            sources={}, loops=loops_of_site[site_id], links=links_by_site[site_id], rack_loads=loads, pdu_sources=()
        )
        for site_id, loads in loads_by_site.items()
    }
    usable_by_loop = {lp.id: engine.loop_usable_kw(lp.unit_capacity_kw, lp.units, lp.redundant_units) for lp in loops}
    serving: dict[int, tuple[list[CoolingLoop], list[CoolingLoop]]] = {}  # rack id -> (liquid tier, close-coupled)
    for r in racks:
        loops_here = budgets[r["site_id"]].serving(r["id"], r["room_id"])
        close = [lp for lp in loops_here if lp.kind in CLOSE_COUPLED_KINDS]
        serving[r["id"]] = (selectors.most_specific_liquid(loops_here, r["room_id"]), close)

    def air_capacity(r: dict, fl, share) -> float:
        limit = air_limit_kw(r["containment"], r["air_limit"])
        close = serving[r["id"]][1]
        if not close:
            return limit
        specs = [
            CoolingLoopSpec(
                lp.id, "", lp.kind, lp.unit_capacity_kw, lp.units, lp.redundant_units, 0.0, 0.0, "air",
                other_heat_kw=max(fl.close_offered_kw.get(lp.id, 0.0) - share.offer_by_loop.get(lp.id, 0.0), 0.0),
            )
            for lp in close
        ]  # fmt: skip
        return air_headroom_kw(
            air_kw=share.air_heat_kw, row_limit_kw=limit, loops=specs, room_other_kw=0.0, room_capacity_kw=math.inf
        )[0]

    figures_by_site: dict[int, list[RackFigures]] = defaultdict(list)
    for r in racks:
        fl = budgets[r["site_id"]]
        share = fl.share(r["id"])
        liquid = heat_of.get(r["id"], (0.0, 0.0, 0.0))[1] - share.air_heat_kw
        liquid_loops = serving[r["id"]][0]
        rack_scale = r["rack_scale"] > 0
        figures_by_site[r["site_id"]].append(
            RackFigures(
                kw=r["kw"],
                air_kw=share.air_heat_kw,
                liquid_kw=liquid,
                power_capacity_kw=power_capacity_kw(pdus_by_rack.get(r["id"], ())),
                air_capacity_kw=air_capacity(r, fl, share),
                liquid_loops=[(fl.loop_liquid_heat_kw.get(lp.id, 0.0), usable_by_loop[lp.id]) for lp in liquid_loops],
                # A rack-scale system carries its own frame: not on the rack's frame, no empty frame weight.
                equipment_kg=r["weight"] - r["rack_scale_weight"],
                max_load_kg=r["max_load_kg"],
                total_kg=r["weight"] + (0.0 if rack_scale else r["empty_weight_kg"]),
                area_m2=floor_area_m2(r["width_mm"], r["depth_mm"], r["aisle_mm"], r["floor_method"]),
                floor_rating_kg_m2=r["floor_rating"],
                u_height=r["u_height"],
                used_u=r["u_height"] if rack_scale else r["used_u"],
            )
        )
    loops_by_site: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for lp in loops:
        loops_by_site[lp.site_id].append((lp.kind, usable_by_loop[lp.id]))
    return [headline_from_figures(s, figures_by_site.get(s.id, []), loops_by_site.get(s.id, [])) for s in sites]
