"""Input rules shared by the API's fields and the pages' forms (no DRF, no forms here): one copy of each."""

from __future__ import annotations

# Units one feasibility question may ask about; larger numbers are typos or attacks.
MAX_QUANTITY = 10_000
# Units one placement (check or commit) may place in one rack.
MAX_PLACE_QUANTITY = 200
# a retrofit question's rack IT load (GET racks/{id}/retrofits/?target_kw=, the rack page's plan form)
MAX_TARGET_KW = 10_000.0

# Physical quantities in this domain stay far below this; larger numbers are typos or attacks.
MAX_ABS_VALUE = 1e12
MAGNITUDE_MESSAGE = f"Must be between -{MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}."

# The writable fields of each resource, in the contract's order: the API serializers (with ``id`` and their
# computed figures around them) and the pages' model forms use these lists, so a page edits what the API writes.
WRITABLE_FIELDS = {
    "site": (
        "name",
        "slug",
        "country",
        "utility_capacity_kw",
        "power_derating",
        "derate_distribution",
        "energy_price_per_kwh",
        "carbon_kg_per_kwh",
        "design_pue",
        # location and governance (issue 17)
        "latitude",
        "longitude",
        "jurisdiction",
        "is_edge",
        "carbon_source",
        "carbon_year",
        "renewable_share",
        "renewable_ppa",
        "energy_price_source",
        "grid_interconnect_kw",
        "grid_expansion_kw",
        "grid_expansion_date",
        "dora_register_entry",
        "dora_critical_function",
        "data_processing_country",
        "ai_rmf_govern_url",
        "ai_rmf_map_url",
        "ai_rmf_measure_url",
        "ai_rmf_manage_url",
    ),
    "room": (
        "site",
        "name",
        "floor_type",
        "floor_rated_load_kg_m2",
        "tile_rated_load_kg",
        "tile_rolling_load_kg",
        "floor_load_method",
    ),
    "row": ("room", "name", "aisle_width_mm", "containment", "air_kw_per_rack_limit"),
    "rack": ("row", "name", "position", "u_height", "width_mm", "depth_mm", "max_load_kg", "empty_weight_kg"),
    "power_source": (
        "site",
        "name",
        "kind",
        "capacity_kw",
        "capacity_kva",
        "power_factor",
        "listed_continuous_100",
        "parent",
    ),
    "pdu": (
        "rack",
        "name",
        "side",
        "phases",
        "voltage_v",
        "current_a",
        "power_factor",
        "source",
        "receptacles_c13",
        "receptacles_c19",
        "receptacles_iec60309",
        "branch_breaker_a",
        "branch_count",
    ),
    "cooling_loop": (
        "site",
        "room",
        "name",
        "kind",
        "unit_capacity_kw",
        "units",
        "redundant_units",
        "supply_temp_c",
        "delta_t_c",
        "fluid",
        "max_flow_lpm",
        "unit_airflow_cfm",
        "approach_c",
        "racks",
    ),
    "node_model": (
        "slug",
        "vendor",
        "name",
        "u_height",
        "max_power_kw",
        "typical_power_kw",
        "weight_kg",
        "cooling",
        "liquid_fraction",
        "airflow_cfm",
        "psu_count",
        "psu_rating_kw",
        "psus_required",
        "max_inlet_temp_c",
        "max_supply_temp_c",
        "heat_output_kw",
        "rack_scale",
        "gpus",
        "cord_count",
        "cord_receptacle",
        "source",
        "notes",
        "compute_ports",
        "compute_port_gbps",
        "storage_ports",
        "storage_port_gbps",
        "inband_ports",
        "inband_port_gbps",
        "oob_ports",
        "oob_port_gbps",
    ),
    "fabric": ("site", "name", "kind", "purpose", "rail_optimized", "media", "racks"),
    "switch": (
        "fabric",
        "rack",
        "u_position",
        "name",
        "role",
        "ports",
        "port_speed_gbps",
        "uplink_ports",
        "rail",
        "u_height",
        "max_power_kw",
        "weight_kg",
    ),
}

# Bidirectional embeddings, overrides and isolates (they make a name display as something else, "Trojan
# Source") and the Unicode line and paragraph separators (a line break by another name).
INVISIBLE_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029))

TEXT_MESSAGES = {
    "control_chars": "Control characters are not allowed.",
    "bidi_controls": "Invisible Unicode formatting characters (bidirectional overrides, line separators) "
    "are not allowed.",
}


def text_problem(value: str) -> str | None:
    """The key in ``TEXT_MESSAGES`` of what is wrong with a user-given text (names end up in pages, reports
    and CSV files), or None when it is clean."""
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        return "control_chars"
    if not INVISIBLE_CONTROLS.isdisjoint(value):
        return "bidi_controls"
    return None


def validate_clean_text(value: str) -> None:
    """A Django validator for :func:`text_problem` (forms and models)."""
    from django.core.exceptions import ValidationError

    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(TEXT_MESSAGES[problem], code=problem)


def validate_magnitude(value: float) -> None:
    """A Django validator for :data:`MAX_ABS_VALUE` (forms)."""
    from django.core.exceptions import ValidationError

    if value is not None and abs(value) > MAX_ABS_VALUE:
        raise ValidationError(MAGNITUDE_MESSAGE, code="too_large")


# --- workloads (issue 17) ---------------------------------------------------------------------------------
MAX_USER_REGIONS = 50
COUNTRY_CODE_PATTERN = r"^[A-Z]{2}\Z"


def _finite(value) -> bool:
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def region_errors(regions) -> list[str]:
    """A workload's user regions: a list of {name, latitude, longitude, share}, shares summing to 1."""
    if not isinstance(regions, list):
        return ["A list of {name, latitude, longitude, share}."]
    if len(regions) > MAX_USER_REGIONS:
        return [f"At most {MAX_USER_REGIONS} regions."]
    errors = []
    for i, region in enumerate(regions):
        if not isinstance(region, dict) or set(region) != {"name", "latitude", "longitude", "share"}:
            errors.append(f"Region {i}: give exactly name, latitude, longitude and share.")
            continue
        if not isinstance(region["name"], str) or not region["name"].strip() or len(region["name"]) > 100:
            errors.append(f"Region {i}: name is a text of 1 to 100 characters.")
        lat, lon, share = region["latitude"], region["longitude"], region["share"]
        if not _finite(lat) or not -90 <= lat <= 90:
            errors.append(f"Region {i}: latitude between -90 and 90.")
        if not _finite(lon) or not -180 <= lon <= 180:
            errors.append(f"Region {i}: longitude between -180 and 180.")
        if not _finite(share) or not 0 < share <= 1:
            errors.append(f"Region {i}: share above 0 and at most 1.")
    if not errors and regions and abs(sum(r["share"] for r in regions) - 1.0) > 1e-6:
        errors.append(f"The shares sum to {sum(r['share'] for r in regions):g}, not 1.")
    return errors


def residency_errors(codes) -> list[str]:
    import re

    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return ['A list of ISO 3166-1 alpha-2 codes, e.g. ["DE", "FR"].']
    bad = [c for c in codes if not re.match(COUNTRY_CODE_PATTERN, c)]
    if bad:
        return [f"Not ISO 3166-1 alpha-2 (two capital letters): {', '.join(map(repr, bad[:5]))}."]
    if len(set(codes)) != len(codes):
        return ["A code is listed twice."]
    return []
