"""Human words for rule codes, headroom dimensions, retrofit kinds and stored choices: one table each, used by
every page (``planner/templatetags/words.py`` gives templates the ``rule``, ``rules``, ``choice``, ``cite`` and
``for_people`` filters)."""

from __future__ import annotations

import re

RULES: dict[str, tuple[str, str]] = {
    "SPACE": ("Space", "Passes when the node's U range is inside the rack and free."),
    "RACK_LOAD": ("Rack load", "Passes when equipment weight on the frame ≤ the rack's load rating."),
    "FLOOR_UNIFORM": ("Floor (uniform)", "Passes when rack total weight / area ≤ the room's uniform floor rating."),
    "FLOOR_POINT": (
        "Floor (point)",
        "Raised floors: passes when total weight / 4 feet ≤ the tile's concentrated rating.",
    ),
    "FLOOR_ROLLING": (
        "Floor (rolling)",
        "Raised floors: passes when half the rack's weight (one caster while it is rolled in) ≤ the panels' "
        "rolling-load rating.",
    ),
    "POWER_RACK": (
        "Rack power",
        "Passes when rack load ≤ usable kW of the smaller PDU side (each side carries it all).",
    ),
    "POWER_REDUNDANCY": (
        "A/B redundancy",
        "Warns when the rack has PDUs on one side only, or its A and B paths share a source below the utility.",
    ),
    "POWER_UPSTREAM": (
        "Upstream power",
        "Passes when every power source up the chain carries all racks fed through it.",
    ),
    "POWER_SITE": ("Site utility", "Passes when site load ≤ the utility feed capacity."),
    "PSU_FEED_LOSS": ("PSU feed loss", "Warns when half the PSUs cannot carry the node's max power."),
    "POWER_OUTLETS": (
        "PDU receptacles",
        "Passes when each side has a free receptacle of the right type for every cord (not checked when unknown).",
    ),
    "POWER_PHASE": (
        "Phases and branches",
        "Passes when every phase and branch breaker stays within its derated rating; warns on phase imbalance.",
    ),
    "COOLING_AIR_RACK": (
        "Rack air cooling",
        "Passes when rack air heat - rear-door/in-row capacity ≤ the row's air kW per rack.",
    ),
    "COOLING_AIR_ROOM": (
        "Room air cooling",
        "Passes when the room's air heat left after rear doors / in-row units ≤ usable CRAH/CRAC capacity.",
    ),
    "COOLING_AIRFLOW": (
        "Airflow",
        "Passes when the air the nodes move (CFM) ≤ the air the serving units deliver, where both are known.",
    ),
    "COOLING_LIQUID": ("Liquid cooling", "Passes when liquid heat on each liquid loop ≤ its usable capacity."),
    "COOLING_LIQUID_REDUNDANCY": (
        "Liquid redundancy",
        "Warns when losing one liquid loop (or one unit of a loop with no spare) leaves liquid heat uncovered.",
    ),
    "COOLING_FLOW": ("Coolant flow", "Passes when flow needed ≤ the loop's maximum flow."),
    "COOLING_TEMPERATURE": ("Coolant temperature", "Passes when loop supply temperature ≤ the node's limit."),
    "FABRIC_PORTS": (
        "Fabric ports",
        "Passes when the node's fabric has enough free leaf ports of the node's speed (on each rail it uses).",
    ),
    "FABRIC_REACH": (
        "Cable reach",
        "Passes when every link to a leaf is within the reach of a medium the fabric allows (copper, optics).",
    ),
}

DIMENSIONS: dict[str, tuple[str, str]] = {
    # key: (label, unit suffix of the headroom dict)
    "power": ("Power", "kw"),
    "cooling_air": ("Air cooling", "kw"),
    "cooling_liquid": ("Liquid cooling", "kw"),
    "rack_load": ("Rack load", "kg"),
    "floor": ("Floor load", "kg_m2"),
}
UNIT_TEXT = {"kw": "kW", "kg": "kg", "kg_m2": "kg/m²"}

RETROFITS = {
    "containment": "Aisle containment",
    "in_row": "In-row cooling",
    "rear_door_passive": "Passive rear-door heat exchanger",
    "rear_door_active": "Active rear-door heat exchanger",
    "direct_liquid": "Direct-to-chip liquid (CDU)",
    "immersion": "Immersion",
    "replace_pdus": "Replace rack PDUs",
    "add_pdus": "Add PDUs on existing sources",
    "busway_tap_off": "Busway tap-off",
    "upstream_capacity": "More upstream UPS / panel capacity",
    "utility_upgrade": "Utility upgrade",
    "combined": "Combined plan",
}


def retrofit_label(option: dict) -> str:
    """An option's label; a combined plan names its parts ("Replace rack PDUs + Active rear-door ...")."""
    kind = option.get("kind")
    if kind == "combined" and option.get("combines"):
        return " + ".join(RETROFITS.get(k, k) for k in option["combines"])
    return RETROFITS.get(kind, kind or "—")


def rule_label(code: str) -> str:
    return RULES.get(code, (code, ""))[0]


def rule_text(code: str) -> str:
    return RULES.get(code, ("", ""))[1]


def choice_labels() -> dict[str, dict[str, str]]:
    """Stored choice value -> its TextChoices label, per kind of value ("containment", "loop_kind", ...)."""
    from cooling.models import CoolingLoop
    from racks.models import Node, NodeModel, Pdu, PowerSource, Room, Row

    return {
        "containment": dict(Row.Containment.choices),
        "floor_type": dict(Room.FloorType.choices),
        "floor_load_method": dict(Room.FloorLoadMethod.choices),
        "source_kind": dict(PowerSource.Kind.choices),
        "loop_kind": dict(CoolingLoop.Kind.choices),
        "fluid": dict(CoolingLoop.Fluid.choices),
        "side": dict(Pdu.Side.choices),
        "node_status": dict(Node.Status.choices),
        "cooling": dict(NodeModel.Cooling.choices),
    }


def choice_label(value, kind: str) -> str:
    """``hot_aisle`` -> "Hot-aisle containment"; an unknown value is shown as it is."""
    return choice_labels().get(kind, {}).get(value, value if value not in (None, "") else "—")


_NO_COST = re.compile(r"no sourced cost; set (\w+)")
_NOT_CHECKED = re.compile(r"capex not checked: unsourced \(§16 'not found'\); set RETROFIT_CONFIG\['(\w+)'\]")
_DESIGN = re.compile(r"\bDESIGN(?:\.md)?(?: rows)? default\b")


def for_people(text: str) -> str:
    """Engine notes in words for people: no configuration key names, no design-document references."""
    if not text:
        return text
    text = _NO_COST.sub(
        "cost not configured: no sourced figure (an administrator sets it in RETROFIT_CONFIG_JSON)", text
    )
    text = _NOT_CHECKED.sub(
        "cost not checked: the reference has no figure (an administrator sets it in RETROFIT_CONFIG_JSON)", text
    )
    text = _DESIGN.sub("planner default", text)
    return text.replace("DESIGN.md", "the planner's design").replace("DESIGN", "the planner's design")
