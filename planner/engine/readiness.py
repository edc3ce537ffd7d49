"""AI readiness score of a site, 0-100 (issue 17). Pure: facts in, components with their evidence out.

Weights (points of 100; a planner choice, documented here and in the answer, unsourced as weights):

- power_density, 20: share of racks whose power capacity (POWER_RACK) >= 56 kW (4 x DGX B300, §16 P [S106]);
- liquid_cooling, 20: share of racks a liquid loop serves (COOLING_LIQUID capacity > 0);
- floor, 10: share of racks with floor headroom >= 0 (FLOOR_UNIFORM as loaded now);
- redundancy, 15: 1 - 0.25 per single point of failure the N-1 sweep finds (0 from four on; planner choice);
- fabric, 10: share of the racks holding systems with compute-fabric ports (§11.1) that a fabric serves, full
  marks only while the site's fabrics have leaf ports left (FABRIC_PORTS; a fabric with none left halves the
  share); "not modelled" (left out of the total) while the site has no fabric and no such system;
- grid_headroom, 10: utility headroom share / 20 % (full marks at 20 % or more; planner choice); an unknown
  utility capacity scores 0;
- telemetry, 5: "not modelled" (no telemetry source in the planner), left out of the total;
- compliance, 10: share of the 9 attributes set: jurisdiction, data-processing country, DORA register entry,
  carbon source, carbon year, and the 4 NIST AI RMF evidence links (§15).

The score is the points earned over the weights of the components that are modelled, x 100, so an unmodelled
component neither adds nor deducts. A component under half marks is a critical gap; each gap has a
recommendation, with its cost where the reference gives one (liquid retrofit ≈ $2,000 per kW, §7.3 S [S54]).
"""

from __future__ import annotations

from dataclasses import dataclass

AI_RACK_KW = 56.0  # 4 x DGX B300 ≈ 56 kW with three rack PDUs (reference §16, P [S106])
AI_RACK_SOURCE = "4 x DGX B300 ≈ 56 kW per rack (reference §16, P [S106])"
LIQUID_RETROFIT_USD_PER_KW = 2000.0  # ≈ US$2 M per MW (reference §7.3, S [S54])
GRID_FULL_MARKS_SHARE = 0.2  # planner choice (unsourced)
CRITICAL_BELOW = 0.5
SPOF_DEDUCTION = 0.25  # each single point of failure costs a quarter of the redundancy component (planner choice)

WEIGHTS = {
    "power_density": 20,
    "liquid_cooling": 20,
    "floor": 10,
    "redundancy": 15,
    "fabric": 10,
    "grid_headroom": 10,
    "telemetry": 5,
    "compliance": 10,
}
COMPLIANCE_ATTRIBUTES = (
    "jurisdiction",
    "data_processing_country",
    "dora_register_entry",
    "carbon_source",
    "carbon_year",
    "ai_rmf_govern_url",
    "ai_rmf_map_url",
    "ai_rmf_measure_url",
    "ai_rmf_manage_url",
)


@dataclass(frozen=True)
class ReadinessInput:
    rack_power_kw: tuple[float, ...]  # POWER_RACK capacity of each rack
    rack_liquid_kw: tuple[float, ...]  # liquid capacity serving each rack
    rack_floor_headroom_kg_m2: tuple[float, ...]
    spof_count: int | None  # None: the sweep was not run
    elements_swept: int
    first_spof: str = ""
    utility_capacity_kw: float | None = None
    site_load_kw: float = 0.0
    grid_expansion: str = ""  # "30,000 kW on 2028-06-30"
    attributes: dict | None = None  # compliance attribute -> value
    fabric_modelled: bool = False
    # Racks holding systems with compute-fabric ports, those of them a fabric serves, and the site's leaf ports
    # left at its tightest fabric rail (None: the site has no fabric).
    fabric_racks_needing: int = 0
    fabric_racks_served: int = 0
    fabric_headroom_ports: int | None = None


def _share(values, ok) -> tuple[float, int]:
    n = sum(1 for v in values if ok(v))
    return (n / len(values) if values else 0.0), n


def readiness(inp: ReadinessInput) -> dict:
    racks = len(inp.rack_power_kw)
    comps = []
    gaps = []
    recs = []

    def add(name, score, evidence, modelled=True):
        comps.append(
            {
                "name": name,
                "weight": WEIGHTS[name],
                "score": None if score is None else round(score, 4),
                "points": None if score is None or not modelled else round(score * WEIGHTS[name], 2),
                "modelled": modelled,
                "evidence": evidence,
            }
        )

    share, n = _share(inp.rack_power_kw, lambda kw: kw >= AI_RACK_KW)
    add("power_density", share, f"{n} of {racks} racks have >= {AI_RACK_KW:g} kW power capacity ({AI_RACK_SOURCE})")
    if share < CRITICAL_BELOW:
        gaps.append(f"power_density: {racks - n} racks below {AI_RACK_KW:g} kW")
        recs.append(
            {
                "component": "power_density",
                "action": f"raise rack feeds to >= {AI_RACK_KW:g} kW (PDU / busway tap-off upgrades, "
                "GET racks/{id}/retrofits/?target_kw=56)",
                "capex_usd": None,
                "cost_basis": "PDU and busway costs not found (§16): not checked, unsourced",
            }
        )

    share, n = _share(inp.rack_liquid_kw, lambda kw: kw > 0)
    add("liquid_cooling", share, f"{n} of {racks} racks are served by a liquid loop (COOLING_LIQUID capacity > 0)")
    if share < CRITICAL_BELOW:
        missing = racks - n
        kw = missing * AI_RACK_KW
        gaps.append(f"liquid_cooling: {missing} racks without a liquid loop")
        recs.append(
            {
                "component": "liquid_cooling",
                "action": f"direct-liquid retrofit of {missing} racks at {AI_RACK_KW:g} kW each ({kw:,.0f} kW)",
                "capex_usd": round(kw * LIQUID_RETROFIT_USD_PER_KW, 2),
                "cost_basis": f"{kw:,.0f} kW x ${LIQUID_RETROFIT_USD_PER_KW:,.0f}/kW (reference §7.3, S [S54])",
            }
        )

    share, n = _share(inp.rack_floor_headroom_kg_m2, lambda h: h >= 0)
    add("floor", share, f"{n} of {racks} racks have floor headroom >= 0 kg/m² (FLOOR_UNIFORM as loaded now)")
    if share < CRITICAL_BELOW:
        gaps.append(f"floor: {racks - n} racks over their floor rating")
        recs.append(
            {
                "component": "floor",
                "action": "spread load or reinforce the floor",
                "capex_usd": None,
                "cost_basis": "not found in the reference: not checked, unsourced",
            }
        )

    if inp.spof_count is None:
        add("redundancy", None, "N-1 sweep not run", modelled=False)
    else:
        score = max(0.0, 1.0 - SPOF_DEDUCTION * inp.spof_count)
        evidence = f"N-1 sweep: {inp.spof_count} single point(s) of failure of {inp.elements_swept} elements"
        if inp.first_spof:
            evidence += f" (e.g. {inp.first_spof})"
        add("redundancy", score, evidence)
        if inp.spof_count:
            gaps.append(f"redundancy: {inp.spof_count} single point(s) of failure")
            recs.append(
                {
                    "component": "redundancy",
                    "action": "give every rack independent A and B paths and a redundant "
                    "cooling unit (see the resilience page)",
                    "capex_usd": None,
                    "cost_basis": "UPS / switchgear capex not found (§16): not checked, unsourced",
                }
            )

    if not inp.fabric_modelled:
        add("fabric", None, "not modelled: the site has no fabric data", modelled=False)
    else:
        need, served, head = inp.fabric_racks_needing, inp.fabric_racks_served, inp.fabric_headroom_ports
        share = served / need if need else (1.0 if head is not None else 0.0)
        evidence = f"{served} of {need} racks with compute-fabric systems are in a fabric"
        if head is None:
            evidence += "; the site has no fabric"
        else:
            evidence += f"; {head} leaf port(s) left at the tightest fabric rail (FABRIC_PORTS)"
            if head <= 0:
                share /= 2
                evidence += ": no leaf port left, half marks"
        add("fabric", share, evidence)
        if share < CRITICAL_BELOW:
            gaps.append(f"fabric: {need - served} of {need} racks with compute-fabric systems not in a fabric")
            recs.append(
                {
                    "component": "fabric",
                    "action": "add leaf switches within cable reach of those racks (fabrics/, switches/)",
                    "capex_usd": None,
                    "cost_basis": "switch and optics prices not found in the reference (§18): not checked, unsourced",
                }
            )

    if inp.utility_capacity_kw is None:
        add("grid_headroom", 0.0, "utility capacity unknown (unlimited is not assumed)")
        gaps.append("grid_headroom: utility capacity unknown")
        recs.append(
            {
                "component": "grid_headroom",
                "action": "enter the utility capacity (sites/{id}/)",
                "capex_usd": 0.0,
                "cost_basis": "data entry",
            }
        )
    else:
        head = inp.utility_capacity_kw - inp.site_load_kw
        head_share = head / inp.utility_capacity_kw if inp.utility_capacity_kw > 0 else 0.0
        score = max(0.0, min(1.0, head_share / GRID_FULL_MARKS_SHARE))
        evidence = (
            f"utility {inp.utility_capacity_kw:,.0f} kW, load {inp.site_load_kw:,.0f} kW: headroom {head_share:.1%} "
            f"(full marks at {GRID_FULL_MARKS_SHARE:.0%}, planner choice)"
        )
        if inp.grid_expansion:
            evidence += f"; expansion {inp.grid_expansion}"
        add("grid_headroom", score, evidence)
        if score < CRITICAL_BELOW:
            gaps.append(f"grid_headroom: {head_share:.1%} of the utility left")
            recs.append(
                {
                    "component": "grid_headroom",
                    "action": "request more interconnect capacity",
                    "capex_usd": None,
                    "cost_basis": "transformer lead time 128 weeks (§16.1 T [S141]); cost not found",
                }
            )

    add("telemetry", None, "not modelled: no telemetry source in the planner", modelled=False)

    attrs = inp.attributes or {}
    present = [a for a in COMPLIANCE_ATTRIBUTES if attrs.get(a) not in (None, "")]
    score = len(present) / len(COMPLIANCE_ATTRIBUTES)
    missing = [a for a in COMPLIANCE_ATTRIBUTES if a not in present]
    add(
        "compliance",
        score,
        f"{len(present)} of {len(COMPLIANCE_ATTRIBUTES)} attributes set (§15)"
        + (f"; missing {', '.join(missing)}" if missing else ""),
    )
    if score < CRITICAL_BELOW:
        gaps.append(f"compliance: {len(missing)} attributes missing")
    if missing:
        recs.append(
            {
                "component": "compliance",
                "action": f"record {', '.join(missing)} on the site form",
                "capex_usd": 0.0,
                "cost_basis": "data entry",
            }
        )

    modelled = [c for c in comps if c["modelled"] and c["score"] is not None]
    weight = sum(c["weight"] for c in modelled)
    points = sum(c["points"] for c in modelled)
    score = round(points / weight * 100, 1) if weight else 0.0
    return {
        "score": score,
        "points": round(points, 2),
        "weight_modelled": weight,
        "basis": f"{points:.2f} points of the {weight} modelled (of 100) x 100 / {weight}",
        "components": comps,
        "critical_gaps": gaps,
        "recommendations": recs,
    }
