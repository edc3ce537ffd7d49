"""Synthetic estates for the scale benchmark: 1,000, 10,000 or 100,000 racks in realistic proportions.

Large operators run dozens of sites, so an estate grows by sites of at most ``MAX_SITE_RACKS`` racks
(1,000 racks = 1 site, 10,000 = 4 sites, 100,000 = 23 sites of 3,500-5,000). Each site has:

- legacy halls (raised floor, 7.2 kPa, tile rating): rows of 14-20 racks of 42 U, open or cold-aisle
  containment, A+B PDUs of 208 V 3-phase 30 A (8.65 kW usable each), 2-5 ``cpu-2u`` servers in ~60 % of racks;
- AI halls (slab, 24.5 kPa), hot-aisle contained rows of 10-16 racks of 48 U, ~60 % *air* rows and ~40 %
  *liquid* rows. Air rows: A+B PDUs of 415 V 3-phase 63 A x2 per side, ``dgx-h100`` / ``dgx-b200`` in ~60 % of
  racks, half of the rows with rear doors listing their racks (3-4 DGX per rack behind a door, 1-2 without).
  Liquid rows: ``gb200-nvl72`` rack-scale systems in ~55 % of racks, 415 V 63 A x4 per side (132 kW does not
  fit on two 36 kW PDUs). Every AI row has a direct-liquid CDU loop listing its racks;
- a power chain: utility -> UPS A/B per room -> panels A/B per legacy row, busways A/B per AI row -> PDUs;
- a CRAH loop per room (serves the whole room), sized to the room's air heat with N+2 units;
- 3 % of racks fed from one side only, ~15 % of nodes ``planned`` (not yet installed);
- ``HISTORY_DAYS`` days of capacity-report history per site before ``REPORT_DAY`` (small summaries with a
  load trend), so the nightly report's history query and forecast run as they do in production.

Everything is deterministic (seeded ``random.Random`` per site). Ids are allocated here, so rows are written
with PostgreSQL ``COPY`` (psycopg 3) in one transaction per site, or with ``bulk_create`` on other databases;
sequences are reset afterwards. Run ``analyze()`` after loading so the planner has statistics.

Use from ``bench/scale.py``, or alone on a scratch database (it migrates it and adds the estate)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/planner_bench .venv/bin/python bench/estate.py 10000
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MAX_SITE_RACKS = 5_000
LEGACY_ROOM_RACKS = 900
AI_ROOM_RACKS = 600
FILL_SHARE = 0.60
PLANNED_SHARE = 0.15
SINGLE_FEED_SHARE = 0.03
REPORT_DAY = date(2026, 3, 1)
HISTORY_DAYS = 60
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)

CITIES = [
    ("Frankfurt", "DE"), ("Ashburn", "US"), ("Dublin", "IE"), ("Singapore", "SG"), ("Tokyo", "JP"),
    ("Amsterdam", "NL"), ("Dallas", "US"), ("London", "GB"), ("Sydney", "AU"), ("Paris", "FR"),
    ("Phoenix", "US"), ("Stockholm", "SE"), ("Madrid", "ES"), ("Osaka", "JP"), ("Hillsboro", "US"),
    ("Milan", "IT"), ("Zurich", "CH"), ("Sao Paulo", "BR"), ("Toronto", "CA"), ("Mumbai", "IN"),
    ("Seoul", "KR"), ("Warsaw", "PL"), ("Oslo", "NO"), ("Chicago", "US"), ("Johannesburg", "ZA"),
]  # fmt: skip

# PDU usable kW at the default 0.8 derating: V x A x sqrt(3) x 0.8 / 1000.
LEGACY_PDU = (208.0, 30.0)  # 8.65 kW
AI_PDU = (415.0, 63.0)  # 36.2 kW


def pdu_kw(voltage: float, current: float, derating: float = 0.8) -> float:
    return voltage * current * math.sqrt(3) * derating / 1000


def n_sites_for(total_racks: int) -> int:
    if total_racks <= 2_000:
        return 1
    if total_racks <= 20_000:
        return math.ceil(total_racks / 2_500)
    return math.ceil(total_racks / 4_500)


def site_sizes(total_racks: int, seed: int = 42, sites: int | None = None) -> list[int]:
    """Racks per site: ``sites`` (default ``n_sites_for(total)``) sites of varying size, none above
    ``MAX_SITE_RACKS``."""
    n = sites or n_sites_for(total_racks)
    if n * MAX_SITE_RACKS < total_racks:
        raise ValueError(f"{total_racks} racks do not fit in {n} site(s) of at most {MAX_SITE_RACKS}")
    if n == 1:
        return [total_racks]
    rnd = random.Random(f"{seed}-sizes")
    weights = [rnd.uniform(0.75, 1.0) for _ in range(n)]
    scale = total_racks / sum(weights)
    sizes = [min(MAX_SITE_RACKS, int(w * scale)) for w in weights]
    i = 0
    while sum(sizes) < total_racks:  # hand out the remainder to sites below the cap
        if sizes[i % n] < MAX_SITE_RACKS:
            sizes[i % n] += 1
        i += 1
    return sizes


# --- Row writer: COPY on PostgreSQL, bulk_create elsewhere -------------------------------------------------


class Writer:
    """Collects rows (tuples, ids included) per model and writes them in FK order."""

    def __init__(self, models_fields: list[tuple]):
        self.spec = models_fields  # [(model, [field names])] in write order
        self.rows: dict = {model: [] for model, _ in models_fields}

    def add(self, model, row: tuple) -> None:
        self.rows[model].append(row)

    def flush(self) -> dict[str, int]:
        from django.db import connection

        written = {}
        for model, fields in self.spec:
            rows = self.rows[model]
            if not rows:
                continue
            if connection.vendor == "postgresql":
                # Columns the estate does not set get their model default (COPY skips Django's defaults,
                # so a field added later would otherwise be written as NULL).
                rest = [
                    f
                    for f in model._meta.concrete_fields
                    if f.name not in fields and f.attname not in fields and not f.primary_key and f.has_default()
                ]
                extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
                names = [model._meta.get_field(f).column for f in fields] + [f.column for f in rest]
                columns = ", ".join(connection.ops.quote_name(c) for c in names)
                table = connection.ops.quote_name(model._meta.db_table)
                with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(tuple(row) + extra)
            else:
                model.objects.bulk_create(
                    [model(**{f: _python_value(v) for f, v in zip(fields, row, strict=True)}) for row in rows],
                    batch_size=2_000,
                )
            written[model._meta.label] = len(rows)
            rows.clear()
        return written


def _python_value(v):
    return json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v


class Ids:
    """Next id per model, starting after the largest id already stored."""

    def __init__(self, models):
        self.next = {m: (m.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1 for m in models}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


# --- One site ----------------------------------------------------------------------------------------------


@dataclass
class SiteStats:
    racks: int = 0
    rooms: int = 0
    rows: int = 0
    pdus: int = 0
    nodes: int = 0
    loops: int = 0
    loop_links: int = 0
    sources: int = 0
    reports: int = 0
    power_kw: float = 0.0
    air_kw: float = 0.0
    liquid_kw: float = 0.0
    used_u: int = 0
    total_u: int = 0
    weight_kg: float = 0.0
    planned_kw: float = 0.0
    by_model: Counter = field(default_factory=Counter)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _rows_of(n_racks: int, lo: int, hi: int, rnd: random.Random) -> list[int]:
    """Row lengths (lo..hi racks) adding up to n_racks; the last row may be shorter."""
    out = []
    left = n_racks
    while left > 0:
        k = min(left, rnd.randint(lo, hi))
        out.append(k)
        left -= k
    return out


def build_site(index: int, n_racks: int, *, seed: int, ids: Ids, writer: Writer, catalogue: dict) -> SiteStats:
    """Queue every row of one site on ``writer`` (nothing is written here)."""
    from cooling.models import CoolingLoop
    from planner.models import CapacityReport
    from racks.models import Node, Pdu, PowerSource, Rack, Room, Row, Site

    Link = CoolingLoop.racks.through
    rnd = random.Random(f"{seed}-site-{index}")
    st = SiteStats(racks=n_racks)
    city, country = CITIES[index % len(CITIES)]
    suffix = f" {index // len(CITIES) + 1}" if index >= len(CITIES) else ""
    name = f"DC{index + 1:02d} {city}{suffix}"
    site_id = ids.take(Site)

    ai_share = rnd.uniform(0.30, 0.40)
    n_ai = round(n_racks * ai_share) if n_racks >= 20 else 0
    n_legacy = n_racks - n_ai
    halls = []  # (kind, racks)
    if n_legacy:
        halls += [("legacy", k) for k in _split(n_legacy, math.ceil(n_legacy / LEGACY_ROOM_RACKS))]
    if n_ai:
        halls += [("ai", k) for k in _split(n_ai, math.ceil(n_ai / AI_ROOM_RACKS))]

    legacy_pdu_kw = pdu_kw(*LEGACY_PDU)
    ai_pdu_kw = pdu_kw(*AI_PDU)
    models = catalogue
    cpu, h100, b200, gb200 = models["cpu-2u"], models["dgx-h100"], models["dgx-b200"], models["gb200-nvl72"]

    utility_id = ids.take(PowerSource)
    # Sources are queued after the halls so the utility and UPS capacities can follow the design loads.
    sources: list[tuple] = []
    loops: list[tuple] = []
    links: list[tuple] = []
    site_design_kw = 0.0
    legacy_i = ai_i = 0
    for kind, hall_racks in halls:
        room_id = ids.take(Room)
        if kind == "legacy":
            legacy_i += 1
            room_name = f"Hall L{legacy_i:02d}"
            writer.add(Room, (room_id, site_id, room_name, "raised", 732.0, 567.0, "footprint"))
            row_lengths = _rows_of(hall_racks, 14, 20, rnd)
        else:
            ai_i += 1
            room_name = f"Hall A{ai_i:02d}"
            writer.add(Room, (room_id, site_id, room_name, "slab", 2_500.0, None, "footprint"))
            row_lengths = _rows_of(hall_racks, 10, 16, rnd)
        st.rooms += 1
        ups = {side: ids.take(PowerSource) for side in "AB"}
        room_design_kw = 0.0
        room_air_kw = 0.0
        for r, length in enumerate(row_lengths, start=1):
            row_id = ids.take(Row)
            row_name = f"R{r:03d}"
            code = f"{room_name[-3:]}-{r:03d}"
            if kind == "legacy":
                containment = "cold_aisle" if rnd.random() < 0.4 else "none"
                row_kind = "legacy"
            else:
                containment = "hot_aisle"
                row_kind = "ai_air" if rnd.random() < 0.6 else "ai_liquid"
            writer.add(Row, (row_id, room_id, row_name, 1200.0, containment, None))
            st.rows += 1
            doors = row_kind == "ai_air" and rnd.random() < 0.5
            feed_kind = "panel" if row_kind == "legacy" else "busway"
            per_side = {"legacy": 1, "ai_air": 2, "ai_liquid": 4}[row_kind]
            pdu_side_kw = per_side * (legacy_pdu_kw if row_kind == "legacy" else ai_pdu_kw)
            feed = {side: ids.take(PowerSource) for side in "AB"}
            row_design_kw = length * {"legacy": 7.5, "ai_air": 43.0 if doors else 20.4, "ai_liquid": 132.0}[row_kind]
            for side in "AB":
                sources.append(
                    (feed[side], site_id, f"{room_name} {row_name} {feed_kind} {side}", feed_kind,
                     round(max(row_design_kw * 1.25, length * pdu_side_kw * 0.5), 1), ups[side])
                )  # fmt: skip
            st.sources += 2
            room_design_kw += row_design_kw
            rack_ids = []
            for k in range(1, length + 1):
                rack_id = ids.take(Rack)
                rack_ids.append(rack_id)
                if row_kind == "legacy":
                    writer.add(Rack, (rack_id, row_id, f"{code}-{k:02d}", k, 42, 600.0, 1200.0, 1000.0, 130.0))
                    st.total_u += 42
                else:
                    writer.add(Rack, (rack_id, row_id, f"{code}-{k:02d}", k, 48, 600.0, 1200.0, 1500.0, 180.0))
                    st.total_u += 48
                sides = rnd.choice("AB") if rnd.random() < SINGLE_FEED_SHARE else "AB"
                for side in sides:
                    for p in range(1, per_side + 1):
                        volts, amps = LEGACY_PDU if row_kind == "legacy" else AI_PDU
                        writer.add(
                            Pdu, (ids.take(Pdu), rack_id, f"PDU-{side}{p}", side, 3, volts, amps, 1.0, feed[side])
                        )
                        st.pdus += 1
                # Nodes.
                fill = FILL_SHARE if row_kind != "ai_liquid" else 0.55
                if rnd.random() >= fill:
                    room_air_kw += 0.0
                    continue
                if row_kind == "legacy":
                    model, count = cpu, rnd.randint(2, 5)
                elif row_kind == "ai_air":
                    if rnd.random() < 0.5:
                        model, count = h100, (rnd.randint(3, 4) if doors else 2)
                    else:
                        model, count = b200, (rnd.randint(2, 3) if doors else 1)
                else:
                    model, count = gb200, 1
                u = 1
                for n in range(1, count + 1):
                    status = "planned" if rnd.random() < PLANNED_SHARE else "installed"
                    created = CREATED_AT - timedelta(days=rnd.randint(0, 900))
                    writer.add(Node, (ids.take(Node), rack_id, model.id, u, f"{model.slug}-{n}", status, created))
                    u += model.u_height
                    st.nodes += 1
                    st.by_model[model.slug] += 1
                    st.power_kw += model.max_power_kw
                    liquid = model.max_power_kw * model.liquid_fraction
                    st.liquid_kw += liquid
                    st.air_kw += model.max_power_kw - liquid
                    room_air_kw += model.max_power_kw - liquid
                    st.used_u += model.u_height
                    st.weight_kg += model.weight_kg
                    if status == "planned":
                        st.planned_kw += model.max_power_kw
            # Cooling of the row: a CDU per AI row (listing its racks), rear doors on some air rows.
            if row_kind != "legacy":
                cdu_id = ids.take(CoolingLoop)
                liquid_row = row_kind == "ai_liquid"
                loops.append(
                    (cdu_id, site_id, room_id, f"{room_name} {row_name} CDU", "direct_liquid", 800.0,
                     4 if liquid_row else 2, 1, 25.0, 10.0, "pg25", 4_000.0 if liquid_row else 2_000.0)
                )  # fmt: skip
                links += [(cdu_id, rid) for rid in rack_ids]
                if doors:
                    door_id = ids.take(CoolingLoop)
                    loops.append(
                        (door_id, site_id, room_id, f"{room_name} {row_name} rear doors", "rear_door", 50.0,
                         length, 0, 18.0, 10.0, "water", None)
                    )  # fmt: skip
                    links += [(door_id, rid) for rid in rack_ids]
        # Room air: CRAH units of 250 kW for the design air heat (DGX rows at 25 kW/rack, legacy 7.5) + N+2.
        n_racks_room = sum(row_lengths)
        design_air = n_racks_room * (7.5 if kind == "legacy" else 25.0)
        units = math.ceil(design_air * 1.2 / 250.0) + 2
        loops.append(
            (ids.take(CoolingLoop), site_id, room_id, f"{room_name} CRAH", "crah", 250.0, units, 2, 22.0, 12.0,
             "air", None)
        )  # fmt: skip
        for side in "AB":
            sources.append(
                (ups[side], site_id, f"{room_name} UPS {side}", "ups", round(room_design_kw * 1.1, 1), utility_id)
            )
        st.sources += 2
        site_design_kw += room_design_kw

    utility_kw = round(site_design_kw * 0.9, 1)  # oversubscribed: not every rack runs at its design load
    writer.add(
        Site,
        (site_id, name, f"dc{index + 1:02d}-{city.lower().replace(' ', '-')}{suffix.strip()}", country, utility_kw,
         0.8, round(rnd.uniform(0.06, 0.18), 3), round(rnd.uniform(0.03, 0.45), 3), round(rnd.uniform(1.15, 1.5), 2),
         uuid.uuid4()),
    )  # fmt: skip
    writer.add(PowerSource, (utility_id, site_id, "Utility", "utility", utility_kw, None))
    st.sources += 1
    for row in sources:
        writer.add(PowerSource, row)
    for row in loops:
        writer.add(CoolingLoop, row)
    for loop_id, rack_id in links:
        writer.add(Link, (ids.take(Link), loop_id, rack_id))
    st.loops, st.loop_links = len(loops), len(links)

    # Report history: a load trend over the last HISTORY_DAYS days (installed load grew ~15 %).
    for age in range(HISTORY_DAYS, 0, -1):
        day = REPORT_DAY - timedelta(days=age)
        factor = 1.0 - 0.15 * age / HISTORY_DAYS
        totals = {}
        for dim, load, cap, unit in (
            ("power", st.power_kw, utility_kw, "kW"),
            ("cooling_air", st.air_kw, st.air_kw * 1.6 + 1.0, "kW"),
            ("cooling_liquid", st.liquid_kw, st.liquid_kw * 1.8 + 1.0, "kW"),
            ("space", float(st.used_u), float(st.total_u), "U"),
            ("rack_load", st.weight_kg, st.racks * 1000.0, "kg"),
        ):
            installed = round(load * 0.85 * factor * rnd.uniform(0.99, 1.01), 3)
            planned = round(load * 0.15, 3)
            headroom = round(max(cap - installed - planned, 0.0), 3)
            totals[dim] = {
                "capacity": round(cap, 3),
                "load": round(installed + planned, 3),
                "planned": planned,
                "installed": installed,
                "headroom": headroom,
                "limit": round(installed + planned + headroom, 3),
                "unit": unit,
            }
        summary = {"version": 1, "totals": totals, "near_limit_count": 0}
        data = {"version": 1, "day": day.isoformat(), "near_limit": [], "history": "synthetic (bench/estate.py)"}
        stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        writer.add(
            CapacityReport,
            (ids.take(CapacityReport), site_id, day, stamp, stamp, round(st.power_kw * factor, 3), utility_kw,
             round(st.air_kw * factor, 3), round(st.liquid_kw * factor, 3), st.racks, round(st.nodes * factor),
             json.dumps(data), json.dumps(summary)),
        )  # fmt: skip
        st.reports += 1
    return st


def writer_for_estate() -> Writer:
    from cooling.models import CoolingLoop
    from planner.models import CapacityReport
    from racks.models import Node, Pdu, PowerSource, Rack, Room, Row, Site

    return Writer(
        [
            (Site, ["id", "name", "slug", "country", "utility_capacity_kw", "power_derating",
                    "energy_price_per_kwh", "carbon_kg_per_kwh", "design_pue", "budget_token"]),
            (Room, ["id", "site", "name", "floor_type", "floor_rated_load_kg_m2", "tile_rated_load_kg",
                    "floor_load_method"]),
            (Row, ["id", "room", "name", "aisle_width_mm", "containment", "air_kw_per_rack_limit"]),
            (Rack, ["id", "row", "name", "position", "u_height", "width_mm", "depth_mm", "max_load_kg",
                    "empty_weight_kg"]),
            (PowerSource, ["id", "site", "name", "kind", "capacity_kw", "parent"]),
            (Pdu, ["id", "rack", "name", "side", "phases", "voltage_v", "current_a", "power_factor", "source"]),
            (Node, ["id", "rack", "model", "u_position", "name", "status", "created_at"]),
            (CoolingLoop, ["id", "site", "room", "name", "kind", "unit_capacity_kw", "units", "redundant_units",
                           "supply_temp_c", "delta_t_c", "fluid", "max_flow_lpm"]),
            (CoolingLoop.racks.through, ["id", "coolingloop", "rack"]),
            (CapacityReport, ["id", "site", "day", "created_at", "updated_at", "it_load_kw", "power_capacity_kw",
                              "air_heat_kw", "liquid_heat_kw", "rack_count", "node_count", "data", "summary"]),
        ]
    )  # fmt: skip


@dataclass
class EstateSummary:
    racks: int
    sites: list[int]
    counts: Counter
    by_model: Counter
    seconds: float

    def line(self) -> str:
        c = self.counts
        sizes = f"{min(self.sites):,}-{max(self.sites):,}" if len(self.sites) > 1 else f"{self.sites[0]:,}"
        return (
            f"{self.racks:,} racks in {len(self.sites)} site(s) of {sizes} racks, {c['rooms']:,} rooms, "
            f"{c['rows']:,} rows, {c['pdus']:,} PDUs, {c['sources']:,} power sources, {c['nodes']:,} nodes "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(self.by_model.items()))}), {c['loops']:,} cooling loops "
            f"({c['loop_links']:,} rack links), {c['reports']:,} history reports; loaded in {self.seconds:.1f} s"
        )


def generate(total_racks: int, *, seed: int = 42, verbose: bool = False, sites: int | None = None) -> EstateSummary:
    """Add an estate of ``total_racks`` racks to the (migrated) database; one transaction per site."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from cooling.models import CoolingLoop
    from planner.models import CapacityReport
    from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

    t0 = time.perf_counter()
    catalogue = {m.slug: m for m in NodeModel.objects.all()}
    missing = {"cpu-2u", "dgx-h100", "dgx-b200", "gb200-nvl72"} - set(catalogue)
    if missing:
        raise RuntimeError(f"catalogue models missing (migrate first): {sorted(missing)}")
    all_models = [Site, Room, Row, Rack, PowerSource, Pdu, Node, CoolingLoop, CoolingLoop.racks.through, CapacityReport]
    ids = Ids(all_models)
    sizes = site_sizes(total_racks, seed, sites)
    counts: Counter = Counter()
    by_model: Counter = Counter()
    writer = writer_for_estate()
    for index, n in enumerate(sizes):
        ts = time.perf_counter()
        st = build_site(index, n, seed=seed, ids=ids, writer=writer, catalogue=catalogue)
        with transaction.atomic():
            writer.flush()
        for key in ("racks", "rooms", "rows", "pdus", "nodes", "loops", "loop_links", "sources", "reports"):
            counts[key] += getattr(st, key)
        by_model.update(st.by_model)
        if verbose:
            print(
                f"  site {index + 1}/{len(sizes)}: {n:,} racks, {st.nodes:,} nodes in {time.perf_counter() - ts:.1f} s"
            )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), all_models):
            cursor.execute(sql)
    return EstateSummary(total_racks, sizes, counts, by_model, time.perf_counter() - t0)


def analyze() -> float:
    """VACUUM ANALYZE (PostgreSQL) so the planner has statistics and index-only scans work. Seconds taken."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return time.perf_counter() - t0


def main() -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Add a synthetic estate to a scratch database.")
    parser.add_argument("racks", type=int, nargs="?", default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "planner.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    summary = generate(args.racks, seed=args.seed, verbose=True)
    print(summary.line())
    print(f"analyzed in {analyze():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
