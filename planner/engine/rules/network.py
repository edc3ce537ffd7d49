"""Network rules: FABRIC_PORTS and FABRIC_REACH (reference §11; the fabric model is planner.engine.fabric).

Both say "not checked" when the rack is in no fabric, and for nodes whose ports of the fabric's purpose are
not stated. Rack checks (no placement) check every node of the rack; a placement checks the rack with it.
"""

from __future__ import annotations

from collections import Counter

from planner.engine.fabric import allowed_media, model_ports, pool, pool_capacity, rack_links, rail_demand
from planner.engine.results import FAIL, OK, rule_result


def _rack_models(st):
    """(model, count) of the rack after the placement (switches included: they take no ports)."""
    out = [(m, n) for m, n in st.models.values()]
    return out


def _subject(st):
    """The models whose links are checked: the placed model, or every model in the rack (rack check)."""
    if st.placement is not None and st.added:
        return [(st.model, st.added)]
    return _rack_models(st)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def rule_fabric_ports(st):
    code = "FABRIC_PORTS"
    fabrics = st.ctx.fabrics
    if not fabrics:
        return rule_result(code, OK, "not checked: the rack is in no fabric", None, None, "ports")
    worst = None  # (over, message, used, cap)
    notes = []
    failed = False
    for fab in fabrics:
        own: Counter = Counter()
        gbps_need = None
        unknown = []
        for m, n in _rack_models(st):
            count, gbps = model_ports(m, fab.purpose)
            if count is None:
                unknown.append(m.slug)
                continue
            own.update(rail_demand(m, fab.purpose, n, fab.rail_optimized))
            if count and gbps is not None and (gbps_need is None or gbps > gbps_need):
                gbps_need = gbps
        if unknown:
            notes.append(
                f"{fab.name}: {fab.purpose} ports of {', '.join(sorted(set(unknown)))} not stated (not checked)"
            )
        if not own:
            continue
        other = dict(fab.other_used)
        speed = f"{_fmt(gbps_need)} Gb/s or faster" if gbps_need is not None else "any speed (node speed not stated)"
        for rail in sorted(own):
            leaves = pool(fab, rail, gbps_need)
            cap = pool_capacity(fab, rail, gbps_need)
            used = other.get(rail, 0) + own[rail]
            where = f"rail {rail}" if fab.rail_optimized else "all leaves"
            msg = (
                f"{fab.name} ({fab.kind}, {fab.purpose}{', rail-optimized' if fab.rail_optimized else ''}), {where}: "
                f"{other.get(rail, 0)} ports used by other racks + {own[rail]} here = {used} of {cap} node-facing "
                f"leaf ports at {speed} ({len(leaves)} leaf/leaves, ports - uplinks)"
            )
            over = used - cap
            if over > 0:
                failed = True
            if worst is None or over > worst[0]:
                worst = (over, msg, used, cap)
    if worst is None:
        text = "; ".join(notes) if notes else "no node of the rack has ports for its fabrics"
        return rule_result(code, OK, f"not checked: {text}", None, None, "ports")
    msg = worst[1] + ("".join(f"; {n}" for n in notes))
    return rule_result(code, FAIL if failed else OK, msg, float(worst[2]), float(worst[3]), "ports")


def rule_fabric_reach(st):
    code = "FABRIC_REACH"
    fabrics = st.ctx.fabrics
    if not fabrics:
        return rule_result(code, OK, "not checked: the rack is in no fabric", None, None, "m")
    parts = []
    failed = False
    worst_len = None
    worst_limit = None
    for fab in fabrics:
        media = allowed_media(fab)
        longest = max((r for _m, r in media), default=0.0)
        for m, n in _subject(st):
            count, _g = model_ports(m, fab.purpose)
            if not count:
                continue
            for link, k in rack_links(fab, m, n):
                if link.leaf is None:
                    failed = True
                    parts.append(f"{fab.name} rail {link.rail}: no leaf of the right rail and speed")
                    continue
                if link.length_m is None:
                    failed = True
                    parts.append(
                        f"{fab.name} rail {link.rail}: leaf {link.leaf.name} is in another room (beyond reach)"
                    )
                    continue
                if worst_len is None or link.length_m > worst_len:
                    worst_len, worst_limit = link.length_m, longest
                arith = f"{_fmt(link.leaf.route_m)} m route + {_fmt(fab.slack_m)} m slack = {_fmt(link.length_m)} m"
                if link.medium is None:
                    failed = True
                    parts.append(
                        f"{fab.name} rail {link.rail} -> {link.leaf.name}: {arith} > {_fmt(longest)} m, the longest "
                        f"reach the site allows ({', '.join(md.name for md, _r in media) or 'no medium'})"
                    )
                else:
                    md = link.medium
                    parts.append(
                        f"{fab.name} rail {link.rail} -> {link.leaf.name}: {k} x {arith} -> {md.label} "
                        f"(reach {_fmt(md.reach_m if md.reach_m is not None else fab.aoc_reach_m)} m; "
                        f"{_fmt(md.switch_end_w + md.node_end_w)} W per link; {md.source})"
                    )
    if not parts:
        return rule_result(code, OK, "not checked: no node here has ports for the rack's fabrics", None, None, "m")
    shown = parts if len(parts) <= 4 else [*parts[:4], f"... {len(parts) - 4} more"]
    return rule_result(code, FAIL if failed else OK, "; ".join(shown), worst_len, worst_limit, "m")
