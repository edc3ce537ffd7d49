"""The shipped hardware catalogue.

Every figure comes from ../shared/reference/engineering.md (section and source tag in ``source``). Where
the reference gives a range or several bases, the conservative value is taken and ``notes`` says so.
Where it says a figure is unsourced, the field is left empty (None) rather than invented, except where a
field cannot be empty; then ``notes`` explains the bound used.

The data lives in this file, not in an importable module, so that later edits to application code can
never rewrite what an old migration did.
"""

from django.db import migrations

CATALOGUE = [
    {
        "slug": "dgx-a100",
        "vendor": "NVIDIA",
        "name": "DGX A100",
        "u_height": 6,
        "max_power_kw": 6.5,
        "typical_power_kw": 6.5,
        "weight_kg": 123.16,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": 840.0,
        "psu_count": 6,
        "psu_rating_kw": 3.0,
        "psus_required": 3,
        "max_inlet_temp_c": 30.0,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1/§1.2, P* [S3] DGX A100 User Guide: 6.5 kW max, 6U, 123.16 kg max, 840 CFM @ 80 % "
        "fan PWM, 6 x 3,000 W PSUs 3+3, inlet 5-30 C.",
        "notes": "Typical power is not published; set to max power (the planner budgets at max anyway).",
    },
    {
        "slug": "dgx-h100",
        "vendor": "NVIDIA",
        "name": "DGX H100",
        "u_height": 8,
        "max_power_kw": 10.2,
        "typical_power_kw": 10.2,
        "weight_kg": 130.45,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": 1105.0,
        "psu_count": 6,
        "psu_rating_kw": 3.3,
        "psus_required": 4,
        "max_inlet_temp_c": 30.0,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1/§1.2, P [S1] DGX H100/H200 User Guide: 10.2 kW max, 8U, 130.45 kg max, 1,105 CFM, "
        "6 x 3,300 W PSUs 4+2, inlet 5-30 C.",
        "notes": "NVIDIA's published heat output (38,557 BTU/h) corresponds to 11.3 kW, not 10.2 kW (reference §1.3); "
        "10.2 kW is used as the electrical limit. Typical power not published; set to max.",
    },
    {
        "slug": "dgx-h200",
        "vendor": "NVIDIA",
        "name": "DGX H200",
        "u_height": 8,
        "max_power_kw": 10.2,
        "typical_power_kw": 10.2,
        "weight_kg": 130.45,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": 1105.0,
        "psu_count": 6,
        "psu_rating_kw": 3.3,
        "psus_required": 4,
        "max_inlet_temp_c": 30.0,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1, P [S1] (same user guide and spec table as DGX H100).",
        "notes": "Same heat-output inconsistency as DGX H100 (reference §1.3). Typical power not published; set to max.",
    },
    {
        "slug": "dgx-b200",
        "vendor": "NVIDIA",
        "name": "DGX B200",
        "u_height": 10,
        "max_power_kw": 14.3,
        "typical_power_kw": 14.3,
        "weight_kg": 142.4,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": 1550.0,
        "psu_count": 6,
        "psu_rating_kw": 3.3,
        "psus_required": 5,
        "max_inlet_temp_c": 35.0,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1/§1.2, P [S2] DGX B200 User Guide: 14.3 kW max, 10U, 142.4 kg max, 6 x 3.3 kW PSUs 5+1; "
        "P* [S2b]: 1,550 CFM, 48,794 BTU/h, inlet 10-35 C.",
        "notes": "With only 3-4 PSUs powered GPUs are limited to 800 W (P* [S2b]). Typical power not published; set to max.",
    },
    {
        "slug": "dgx-b300",
        "vendor": "NVIDIA",
        "name": "DGX B300",
        "u_height": 10,
        "max_power_kw": 14.5,
        "typical_power_kw": 14.5,
        "weight_kg": 168.0,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": 1500.0,
        "psu_count": 12,
        "psu_rating_kw": 3.2,
        "psus_required": 6,
        "max_inlet_temp_c": None,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1/§1.2, P* [S4] DGX B300 User Guide: 10 RU, 14.5 kW max, 12 x 3.2 kW PSUs; "
        "S [S4b]: N+N, 168 kg (AC-PSU version) / 123 kg (busbar), 1,500 / 1,350 CFM.",
        "notes": "Conservative choice: the AC-PSU version (168 kg, 1,500 CFM) rather than the DC-busbar one (123 kg, "
        "1,350 CFM). Inlet temperature range unsourced: left empty. Typical power not published; set to max.",
    },
    {
        "slug": "gb200-nvl72",
        "vendor": "NVIDIA",
        "name": "GB200 NVL72 (rack)",
        "u_height": 35,
        "max_power_kw": 132.0,
        "typical_power_kw": 120.0,
        "weight_kg": 1360.0,
        "cooling": "hybrid",
        "liquid_fraction": 0.8712,
        "airflow_cfm": None,
        "psu_count": 48,
        "psu_rating_kw": 5.5,
        "psus_required": 24,
        "max_inlet_temp_c": None,
        "max_supply_temp_c": None,
        "rack_scale": True,
        "source": "Reference §1.1/§1.2: P* [S10] HPE QuickSpecs 132 kW TDP = 115 kW liquid + 17 kW air (liquid "
        "fraction 115/132 = 0.8712, C); T [S9] 120 kW nominal, 1.36 t; P [S7] 18 compute + 9 NVLink 1U trays; "
        "S [S12][S22] 8 x 1U power shelves x 6 x 5.5 kW = 264 kW, N+N -> 132 kW.",
        "notes": "Conservative choice: max power 132 kW (HPE TDP) rather than NVIDIA's nominal 120 kW, which is kept "
        "as typical. Rack-scale: needs an empty rack; its 1,360 kg includes its own frame. Rack U height is "
        "unsourced: 35 U is the sum of the sourced 1U parts (18 + 9 trays + 8 power shelves, C). Footprint 600 x "
        "1,068 mm (S [S59]). Air inlet and liquid supply limits unsourced for GB200: left empty.",
    },
    {
        "slug": "gb300-nvl72",
        "vendor": "NVIDIA",
        "name": "GB300 NVL72 (rack)",
        "u_height": 35,
        "max_power_kw": 155.0,
        "typical_power_kw": 135.0,
        "weight_kg": 1360.0,
        "cooling": "hybrid",
        "liquid_fraction": 0.8712,
        "airflow_cfm": None,
        "psu_count": 48,
        "psu_rating_kw": 5.5,
        "psus_required": 24,
        "max_inlet_temp_c": None,
        "max_supply_temp_c": 45.0,
        "rack_scale": True,
        "source": "Reference §1.1: P* [S11] Lenovo LP2357: 135 kW TDP, up to 155 kW peak, facility liquid supply "
        "25-45 C (DI water or PG25); S [S12] Supermicro 8 x 1U 33 kW shelves (6 x 5.5 kW); T [S75] ~1.36 t.",
        "notes": "Conservative choice: max power 155 kW (Lenovo peak) rather than the 135 kW TDP, kept as typical. "
        "No GB300-specific liquid/air split is sourced: the GB200 NVL72 split of the same tray architecture "
        "(115/132 = 0.8712, P* [S10]) is used. Weight is the GB200 figure attributed by T [S75]; no GB300 vendor "
        "weight was found. Rack-scale: needs an empty rack. U height as GB200 (35 U of sourced 1U parts, C).",
    },
    {
        "slug": "hgx-h100-8gpu",
        "vendor": "Dell",
        "name": "PowerEdge XE9680 (HGX H100 8-GPU)",
        "u_height": 6,
        "max_power_kw": 14.0,
        "typical_power_kw": 14.0,
        "weight_kg": 107.75,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": None,
        "psu_count": 6,
        "psu_rating_kw": 2.8,
        "psus_required": 5,
        "max_inlet_temp_c": None,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1: T [S14] StorageReview; S [S15] (weak): 6U, 70.19-107.75 kg, 6 x 2,800 W PSUs, 5+1 or "
        "3+3 FTR.",
        "notes": "Max power is not published: bounded by the PSUs at 5+1, 5 x 2.8 kW = 14.0 kW (C), used as max and "
        "typical. Conservative weight: the heaviest configuration, 107.75 kg. Airflow and inlet range unsourced.",
    },
    {
        "slug": "cpu-2u",
        "vendor": "Lenovo",
        "name": "ThinkSystem SR650 V2 (2U CPU server)",
        "u_height": 2,
        "max_power_kw": 1.5,
        "typical_power_kw": 1.5,
        "weight_kg": 32.0,
        "cooling": "air",
        "liquid_fraction": 0.0,
        "airflow_cfm": None,
        "psu_count": 2,
        "psu_rating_kw": 1.5,
        "psus_required": 1,
        "max_inlet_temp_c": 35.0,
        "max_supply_temp_c": None,
        "rack_scale": False,
        "source": "Reference §1.1: P [S16] Lenovo SR650 V2 environment: ASHRAE A2 10-35 C; T [S60] a dual-socket "
        "server 'can easily approach 1.5 kW'; T [S61] (weak) SR650 class 25-32 kg.",
        "notes": "A contrast model. Conservative: 1.5 kW (upper end of the 0.5-1.5 kW typical band) as max and typical, "
        "32 kg (upper end). PSUs 1+1 are typical but unsourced; the PSU rating is the bound a 1+1 pair implies "
        "(one PSU carries max power, C), not a vendor figure. Inlet limit is A2's 35 C (some configurations "
        "allow A3/A4).",
    },
]


def load_catalogue(apps, schema_editor):
    NodeModel = apps.get_model("racks", "NodeModel")
    for entry in CATALOGUE:
        NodeModel.objects.update_or_create(slug=entry["slug"], defaults={k: v for k, v in entry.items() if k != "slug"})


def unload_catalogue(apps, schema_editor):
    NodeModel = apps.get_model("racks", "NodeModel")
    NodeModel.objects.filter(slug__in=[e["slug"] for e in CATALOGUE], nodes__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("racks", "0001_initial")]
    operations = [migrations.RunPython(load_catalogue, unload_catalogue)]
