"""check_placement: every rule, always, in DESIGN order; nothing raised for any input."""

from __future__ import annotations

from planner.engine.inputs import Placement, RackContext
from planner.engine.results import FAIL, RULE_CODES, CheckResult, RuleResult, check_result
from planner.engine.rules.circuits import rule_power_outlets, rule_power_phase
from planner.engine.rules.cooling import (
    rule_air_rack,
    rule_air_room,
    rule_airflow,
    rule_flow,
    rule_liquid,
    rule_liquid_redundancy,
    rule_temperature,
)
from planner.engine.rules.floor import rule_floor_point, rule_floor_rolling, rule_floor_uniform, rule_rack_load
from planner.engine.rules.network import rule_fabric_ports, rule_fabric_reach
from planner.engine.rules.power import (
    rule_power_rack,
    rule_power_redundancy,
    rule_power_site,
    rule_power_upstream,
    rule_psu_feed_loss,
)
from planner.engine.rules.space import check_space
from planner.engine.rules.state import build_state

# Every rule after SPACE, in DESIGN order (SPACE also returns the positions, so it is called apart).
RULES = (
    ("RACK_LOAD", rule_rack_load),
    ("FLOOR_UNIFORM", rule_floor_uniform),
    ("FLOOR_POINT", rule_floor_point),
    ("FLOOR_ROLLING", rule_floor_rolling),
    ("POWER_RACK", rule_power_rack),
    ("POWER_REDUNDANCY", rule_power_redundancy),
    ("POWER_UPSTREAM", rule_power_upstream),
    ("POWER_SITE", rule_power_site),
    ("PSU_FEED_LOSS", rule_psu_feed_loss),
    ("POWER_OUTLETS", rule_power_outlets),
    ("POWER_PHASE", rule_power_phase),
    ("COOLING_AIR_RACK", rule_air_rack),
    ("COOLING_AIR_ROOM", rule_air_room),
    ("COOLING_AIRFLOW", rule_airflow),
    ("COOLING_LIQUID", rule_liquid),
    ("COOLING_LIQUID_REDUNDANCY", rule_liquid_redundancy),
    ("COOLING_FLOW", rule_flow),
    ("COOLING_TEMPERATURE", rule_temperature),
    ("FABRIC_PORTS", rule_fabric_ports),
    ("FABRIC_REACH", rule_fabric_reach),
)
assert tuple(code for code, _ in RULES) == RULE_CODES[1:]


def _broken(code: str, exc: BaseException) -> RuleResult:
    # A safety net: a rule that cannot be evaluated (inconsistent input) fails rather than passing silently.
    return RuleResult(code, FAIL, f"could not be evaluated: {type(exc).__name__}: {exc}", None, None, "")


def check_placement(ctx: RackContext, placement: Placement | None) -> CheckResult:
    """Evaluate every rule (RULE_CODES) for ``placement`` in the rack of ``ctx`` (None: the rack as it stands).

    Nodes listed in ``placement.exclude_node_ids`` are removed first (a move). The proposed units count in
    every load even when SPACE fails, so each rule still reports what the placement would do.
    """
    try:
        # Fast path: straight-line calls (this runs thousands of times per feasibility question).
        st = build_state(ctx, placement)
        space, positions = check_space(ctx.rack.u_height, st.nodes, placement)
        checks = (
            space,
            rule_rack_load(st),
            rule_floor_uniform(st),
            rule_floor_point(st),
            rule_floor_rolling(st),
            rule_power_rack(st),
            rule_power_redundancy(st),
            rule_power_upstream(st),
            rule_power_site(st),
            rule_psu_feed_loss(st),
            rule_power_outlets(st),
            rule_power_phase(st),
            rule_air_rack(st),
            rule_air_room(st),
            rule_airflow(st),
            rule_liquid(st),
            rule_liquid_redundancy(st),
            rule_flow(st),
            rule_temperature(st),
            rule_fabric_ports(st),
            rule_fabric_reach(st),
        )
    except Exception:
        return _check_guarded(ctx, placement)
    ok = True
    for r in checks:
        if r.status == FAIL:
            ok = False
            break
    return check_result(ok, checks, positions, st.load_kw, st.air_kw, st.liquid_kw, st.weight_kg, st.equipment_kg)


def _check_guarded(ctx: RackContext, placement: Placement | None) -> CheckResult:
    """Rule by rule, each guarded: a rule that raises on inconsistent input fails; the others still answer."""
    try:
        st = build_state(ctx, placement)
    except Exception as exc:
        return CheckResult(False, tuple(_broken(code, exc) for code in RULE_CODES))
    try:
        space, positions = check_space(ctx.rack.u_height, st.nodes, placement)
    except Exception as exc:
        space, positions = _broken("SPACE", exc), ()
    checks = [space]
    for code, rule in RULES:
        try:
            checks.append(rule(st))
        except Exception as exc:
            checks.append(_broken(code, exc))
    ok = all(c.status != FAIL for c in checks)
    return CheckResult(ok, tuple(checks), positions, st.load_kw, st.air_kw, st.liquid_kw, st.weight_kg, st.equipment_kg)


def check_rack(ctx: RackContext) -> CheckResult:
    """Every rule for the rack as it stands."""
    return check_placement(ctx, None)
