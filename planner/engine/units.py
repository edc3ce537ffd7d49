"""Units, physical constants and the small formulas every rule shares.

SI inside, unit in the name (``_kw``, ``_kg``, ``_m2``, ``_lpm``, ``_c``). Imperial only for display.
Sources are the tags of ``reference/engineering.md`` (section, tag, source id).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SQRT3 = math.sqrt(3.0)  # §0.2: 1.7320508

# §0.2 conversions (display only).
W_TO_BTU_H = 3.41214  # exact factor NVIDIA uses (§1.3); 3.412 in §4.1
KG_TO_LB = 2.20462
M2_TO_FT2 = 10.7639
L_PER_US_GAL = 3.78541
KG_M2_PER_LBF_FT2 = 4.882428  # 1 lbf/ft² = 47.880 Pa = 4.8824 kg/m² (g = 9.80665)

# §4.2 (C): CFM = 1.755 x W / dT[°C] at sea level, standard air.
CFM_PER_W_PER_K = 1.755


@dataclass(frozen=True, slots=True)
class FluidProperties:
    name: str
    rho_kg_per_l: float
    cp_kj_per_kg_k: float
    source: str

    @property
    def rho_cp_kj_per_l_k(self) -> float:
        return self.rho_kg_per_l * self.cp_kj_per_kg_k


# §4.3 table at 30 °C, CoolProp 8.0.0, C [S31]. "pg25" = 25 % propylene glycol by mass (INCOMP::MPG-25%).
FLUIDS: dict[str, FluidProperties] = {
    "water": FluidProperties("water", 0.9956, 4.180, "§4.3 C [S31] CoolProp 8.0.0 Water at 30 °C"),
    "pg25": FluidProperties("pg25", 1.0149, 3.945, "§4.3 C [S31] CoolProp 8.0.0 INCOMP::MPG-25% at 30 °C"),
}

# Air kW per rack when the row records none (DESIGN "rows"; reference §3: open aisles "up to about 8-10 kW
# per rack" T [S45], S [S43] "adequate for racks using up to 10 kW"; contained practical ceiling ~25-30 kW
# T [S65]). The conservative end of each band.
AIR_KW_PER_RACK_DEFAULT = {"none": 10.0, "cold_aisle": 25.0, "hot_aisle": 25.0}
AIR_KW_PER_RACK_OPEN = 10.0

FEET_PER_RACK = 4  # DESIGN FLOOR_POINT: total weight / 4 feet
# §5.2 IBM tile guidance, P [S38]: "during relocation up to 1/2 of a rack per caster" (FLOOR_ROLLING).
CASTER_SHARE_ROLLING = 0.5

LIQUID_KINDS = frozenset({"direct_liquid", "immersion"})
AIR_SIDE_KINDS = frozenset({"crah", "in_row", "rear_door"})
CLOSE_COUPLED_KINDS = frozenset({"in_row", "rear_door"})


def pdu_usable_kw(voltage_v: float, current_a: float, phases: int, derating: float, power_factor: float = 1.0) -> float:
    """Usable kW of a rack PDU: V x I x (sqrt(3) if 3-phase) x derating x PF / 1000 (reference §4.4, §4.6).

    ``voltage_v`` is line-to-line for three-phase. 415 V 3-ph 63 A at 0.8 = 36.228 kW (§4.6).
    """
    return voltage_v * current_a * (SQRT3 if phases == 3 else 1.0) * derating * power_factor / 1000.0


# Reference §4.4: 415 V three-phase wye gives 239.6 V line-to-neutral, inside DGX PSUs' 200-240 V input (C; P [S1]
# [S2]); 208 V three-phase delta outlets are 208 V line-to-line (S [S33][S34b]). A 3-phase PDU whose line-to-neutral
# voltage is below that input range is taken as delta (outlets line-to-line), else wye (outlets line-to-neutral).
PSU_INPUT_MIN_V = 200.0


def pdu_phase_limit_a(current_a: float, derating: float) -> float:
    """Current one phase (or branch) may carry continuously: breaker x the derating ``pdu_usable_kw`` applies
    (the site's ``power_derating``, §4.5: continuous load <= 80 % of the rating). pdu_usable_kw equals
    phases x V_phase x this x PF / 1000 (V_phase = V_LL / sqrt(3) when 3-phase)."""
    return current_a * derating


def pdu_phase_voltage_v(voltage_v: float, phases: int) -> float:
    """Line-to-neutral voltage a phase's load is drawn at: V_LL / sqrt(3) for 3-phase (§4.4 balanced line current
    I = P / (sqrt(3) x V_LL x PF), per phase P / 3), V for single phase."""
    return voltage_v / SQRT3 if phases == 3 else voltage_v


def pdu_outlet_voltage_v(voltage_v: float, phases: int) -> float:
    """Voltage at the PDU's outlets: line-to-neutral (wye) unless that is below the PSU input range, then
    line-to-line (208 V delta, §4.4 S [S33][S34b])."""
    if phases != 3:
        return voltage_v
    ln = voltage_v / SQRT3
    return ln if ln >= PSU_INPUT_MIN_V else voltage_v


def current_a(kw: float, voltage_v: float, power_factor: float = 1.0) -> float:
    """I = P / (V x PF) (§4.4 single phase)."""
    return kw * 1000.0 / (voltage_v * power_factor)


def loop_usable_kw(unit_capacity_kw: float, units: int, redundant_units: int) -> float:
    """Usable kW of a cooling loop: unit capacity x (units - redundant units); never below 0."""
    return unit_capacity_kw * _working_units(units, redundant_units)


def loop_airflow_cfm(unit_airflow_cfm: float | None, units: int, redundant_units: int) -> float | None:
    """Air a loop delivers with its redundant units out: unit airflow x (units - redundant); None: unknown."""
    if unit_airflow_cfm is None:
        return None
    return unit_airflow_cfm * _working_units(units, redundant_units)


def _working_units(units: int, redundant_units: int) -> int:
    """Units carrying load with the redundant ones out (the one copy of ``units - redundant_units``)."""
    n = units - redundant_units
    return n if n > 0 else 0


# Reference §4.5 (NEC 210.20(A), 215.3; P* [S32]): continuous load <= 80 % of the rating of panels, busways and
# feeders unless the assembly is listed for 100 % continuous operation. The kinds it applies to, where the site
# applies it (Site.derate_distribution, with the site's power_derating).
DERATED_SOURCE_KINDS = frozenset({"panel", "busway"})
CONTINUOUS_RULE_SOURCE = "§4.5 NEC 210.20(A) P* [S32]"


def source_derating(kind: str, listed_continuous_100: bool, derate_distribution: bool, power_derating: float) -> float:
    """The continuous-load factor of one power source: the site's ``power_derating`` for a panel or busway when
    the site applies it (``derate_distribution``) and the assembly is not listed for 100 %; else 1.0 (§4.5)."""
    if derate_distribution and kind in DERATED_SOURCE_KINDS and not listed_continuous_100:
        return power_derating
    return 1.0


def source_usable_kw(
    capacity_kw: float | None, capacity_kva: float | None = None, power_factor: float = 1.0, derating: float = 1.0
) -> float:
    """Usable kW of a power source (the one formula; every reader of a source's capacity uses it).

    Rating: ``capacity_kva x power_factor`` when rated in kVA (§4.4: P = S x PF); the kW rating when only that
    is given; with both, the smaller (real power is bounded by both; the models' ``clean()`` keeps the kW
    rating <= kVA x PF). Then x ``derating`` (``source_derating``). 500 kVA x PF 0.9 x 0.8 = 360 kW.
    No rating at all: 0 kW.
    """
    if capacity_kva is not None:
        rating = capacity_kva * power_factor
        if capacity_kw is not None and capacity_kw < rating:
            rating = capacity_kw
    elif capacity_kw is not None:
        rating = capacity_kw
    else:
        rating = 0.0
    return rating * derating


def source_usable_text(
    capacity_kw: float | None, capacity_kva: float | None = None, power_factor: float = 1.0, derating: float = 1.0
) -> str:
    """The arithmetic of ``source_usable_kw`` for a message, e.g. "500 kVA x PF 0.9 x 0.8 continuous (§4.5 ...)"."""
    if capacity_kva is not None:
        kva = f"{fmt(capacity_kva)} kVA x PF {fmt(power_factor)}"
        if capacity_kw is not None and capacity_kw < capacity_kva * power_factor:
            text = f"min({fmt(capacity_kw)} kW, {kva})"
        else:
            text = kva
    else:
        text = f"{fmt(capacity_kw or 0.0)} kW rated"
    if derating != 1.0:
        text += f" x {fmt(derating)} continuous ({CONTINUOUS_RULE_SOURCE})"
    return text


def node_heat_kw(model) -> float:
    """Heat a node puts out, kW (DESIGN "Air"): its published heat output when the vendor gives one, else its
    max power; never below max power (all electrical power becomes heat, §4.1). ``model``: anything with
    ``max_power_kw`` and ``heat_output_kw`` (an engine NodeModelSpec, a catalogue row). DGX H100: 38,557 BTU/h
    / 3.41214 = 11.300 kW > 10.2 kW (§1.3). Power is still budgeted at max_power_kw."""
    power = model.max_power_kw
    heat = getattr(model, "heat_output_kw", None)
    return heat if heat is not None and heat > power else power


def node_heat_split_kw(model, immersion: bool = False) -> tuple[float, float]:
    """(air heat kW, liquid heat kW) of one node: liquid_fraction of its heat to liquid, the rest to air; all of
    it to liquid in an immersion tank."""
    heat = node_heat_kw(model)
    if immersion:
        return 0.0, heat
    liquid = heat * model.liquid_fraction
    return heat - liquid, liquid


def coolant_flow_lpm(heat_kw: float, delta_t_c: float, fluid: str) -> float:
    """Volumetric flow (L/min) to carry ``heat_kw`` at ``delta_t_c``: kW x 60 / (rho x cp x dT) (§4.3).

    1 kW at dT 10 K of water (30 °C) = 60 / (0.9956 x 4.180 x 10) = 1.4418 L/min.
    Raises KeyError for a fluid without property data, ValueError when delta_t_c <= 0.
    """
    props = FLUIDS[fluid]
    if not delta_t_c > 0:
        raise ValueError("delta_t_c must be > 0")
    return heat_kw * 60.0 / (props.rho_kg_per_l * props.cp_kj_per_kg_k * delta_t_c)


def flow_heat_kw(flow_lpm: float, delta_t_c: float, fluid: str) -> float:
    """Inverse of ``coolant_flow_lpm``: heat (kW) a flow of ``flow_lpm`` carries at ``delta_t_c``."""
    props = FLUIDS[fluid]
    return flow_lpm * props.rho_kg_per_l * props.cp_kj_per_kg_k * delta_t_c / 60.0


_AIR_BASIS = {
    "cold_aisle": (AIR_KW_PER_RACK_DEFAULT["cold_aisle"], "default for cold aisle containment"),
    "hot_aisle": (AIR_KW_PER_RACK_DEFAULT["hot_aisle"], "default for hot aisle containment"),
}
_OPEN_BASIS = (AIR_KW_PER_RACK_OPEN, "default for an open aisle")


def air_kw_per_rack_limit(limit_kw: float | None, containment: str) -> tuple[float, str]:
    """The row's air kW per rack and where it comes from (recorded, or the default by containment)."""
    if limit_kw is not None:
        return limit_kw, "row limit"
    return _AIR_BASIS.get(containment, _OPEN_BASIS)


# Display conversions (never used by the rules).
def kw_to_btu_h(kw: float) -> float:
    return kw * 1000.0 * W_TO_BTU_H


def kg_to_lb(kg: float) -> float:
    return kg * KG_TO_LB


def kg_m2_to_lbf_ft2(kg_m2: float) -> float:
    return kg_m2 / KG_M2_PER_LBF_FT2


def c_to_f(c: float) -> float:
    return c * 1.8 + 32.0


def lpm_to_gpm(lpm: float) -> float:
    return lpm / L_PER_US_GAL


def airflow_cfm(heat_kw: float, delta_t_c: float) -> float:
    """Air volume (CFM) to carry ``heat_kw`` at an air dT of ``delta_t_c`` (§4.2, sea level)."""
    return CFM_PER_W_PER_K * heat_kw * 1000.0 / delta_t_c


def fmt(x: float) -> str:
    """A number for a message: at most 2 decimals, trailing zeros dropped (40.8, 36.23, 415)."""
    s = f"{x:.2f}"
    if s.endswith(".00"):
        s = s[:-3]
        return "0" if s == "-0" else s
    if s[-1] == "0" and "." in s:
        return s[:-1]
    return s
