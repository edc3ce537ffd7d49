"""Forms of the browser pages. They render like Django forms and validate through the models.

Each model form parses the browser's input (numbers, choices), then lets the model judge it: its validators,
its ``clean()`` (the cross-row invariants, one copy shared with the admin, the API serializers and the site
import) and its constraints. A page therefore accepts what ``POST /api/v1/...`` accepts and says why in the same
words. The editable fields and the input bounds come from ``planner.validation``, which the API reads too.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models as dj_models

from cooling.forms import PendingRacksMixin
from cooling.models import CoolingLoop
from planner.validation import (
    MAX_PLACE_QUANTITY,
    MAX_QUANTITY,
    MAX_TARGET_KW,
    WRITABLE_FIELDS,
    validate_clean_text,
    validate_magnitude,
)
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


def _number(step: str = "any", **attrs) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, **attrs})


def form_fields(resource: str) -> list[str]:
    """The resource's writable contract fields, in the API's order: one list for the API and the page."""
    return list(WRITABLE_FIELDS[resource])


class PlannerModelForm(forms.ModelForm):
    """A ModelForm with the API's input bounds on its fields (clean names, finite sane magnitudes); everything
    else is the model's own validation (``full_clean``: validators, ``clean()``, constraints)."""

    def __init__(self, *args, site: Site | None = None, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field (a workload's regions as text)
                model_field = None
            if isinstance(model_field, dj_models.CharField) and not field.widget.is_hidden:
                field.validators.append(validate_clean_text)
            if isinstance(field, forms.FloatField):
                field.validators.append(validate_magnitude)
                if not isinstance(field.widget, forms.HiddenInput):
                    field.widget.attrs.setdefault("step", "any")
            if field.help_text:
                field.widget.attrs.setdefault("aria-describedby", f"id_{name}_help")


class SiteForm(PlannerModelForm):
    class Meta:
        model = Site
        fields = form_fields("site")
        labels = {
            "slug": "Slug (used in URLs and the API)",
            "utility_capacity_kw": "Utility capacity (kW)",
            "power_derating": "Power derating (0-1)",
            "derate_distribution": "Derate panels and busways",
            "energy_price_per_kwh": "Energy price (USD per kWh)",
            "carbon_kg_per_kwh": "Grid carbon (kg CO₂ per kWh)",
            "design_pue": "Design PUE",
        }
        help_texts = {
            "slug": "Lower-case letters, digits and hyphens, e.g. ashburn-1.",
            "country": "Optional, e.g. US.",
            "derate_distribution": "Apply the power derating to panels and busways too (NEC continuous load <= 80 % "
            "of the rating), except those listed for 100 % continuous operation.",
            "design_pue": "Facility power / IT power, ≥ 1.0 (industry average 1.58). Empty: energy figures use 1.0.",
        }


class RoomForm(PlannerModelForm):
    class Meta:
        model = Room
        fields = form_fields("room")
        labels = {
            "floor_rated_load_kg_m2": "Uniform floor rating (kg/m²)",
            "tile_rated_load_kg": "Tile concentrated rating (kg)",
            "tile_rolling_load_kg": "Tile rolling rating per caster (kg)",
            "floor_load_method": "Floor load area",
        }
        help_texts = {
            "floor_load_method": "Footprint: rack weight over its own footprint (worst case). "
            "Half aisles: the footprint widened by half the aisle front and back.",
            "tile_rolling_load_kg": "Raised floors: rolling load per caster the panels take (a rack being rolled "
            "in puts up to half its weight on one caster); empty = not checked.",
        }


class RowForm(PlannerModelForm):
    class Meta:
        model = Row
        fields = form_fields("row")
        labels = {"aisle_width_mm": "Aisle width (mm)", "air_kw_per_rack_limit": "Air limit per rack (kW)"}
        help_texts = {
            "aisle_width_mm": "Used by the half-aisle floor-load method; 1,200 mm typical.",
            "air_kw_per_rack_limit": "Air heat one rack may reject; empty = 10 kW with open aisles, 25 kW contained.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.site is not None:
            self.fields["room"].queryset = Room.objects.filter(site=self.site)


class RackForm(PlannerModelForm):
    class Meta:
        model = Rack
        fields = form_fields("rack")
        labels = {
            "position": "Position in the row",
            "u_height": "Height (U)",
            "width_mm": "Width (mm)",
            "depth_mm": "Depth (mm)",
            "max_load_kg": "Frame load rating (kg)",
            "empty_weight_kg": "Empty frame weight (kg)",
        }
        help_texts = {
            "position": "Slot in the row, from 1; the floor plan draws racks in this order.",
            "u_height": "Rack units, 1-60 (42 U typical).",
            "width_mm": "600 mm typical; 800 mm for wide AI racks.",
            "depth_mm": "1,200 mm typical for GPU servers.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.site is not None:
            self.fields["row"].queryset = Row.objects.filter(room__site=self.site).select_related("room")
        self.fields["row"].label_from_instance = lambda row: f"{row.room.name} / {row.name}"
        row = self.initial.get("row")
        if self.instance.pk is None and "position" not in self.initial and row is not None:
            # A new rack goes to the row's next free slot (a default of 1 collided with the first rack).
            from planner.services.bulk import rack_next_position

            self.initial["position"] = rack_next_position(row_id=getattr(row, "pk", row))


class PowerSourceForm(PlannerModelForm):
    class Meta:
        model = PowerSource
        fields = form_fields("power_source")
        labels = {
            "capacity_kw": "Capacity (kW)",
            "capacity_kva": "Capacity (kVA)",
            "power_factor": "Power factor (0-1)",
            "listed_continuous_100": "Listed for 100 % continuous operation",
            "parent": "Fed from",
        }
        help_texts = {
            "capacity_kw": "Rated output in kW; every rack fed through it (by PDUs or the sources below it) shares it. "
            "May be empty when the kVA rating is given.",
            "capacity_kva": "Rated in kVA (e.g. a UPS): usable kW = kVA x power factor; give kW, kVA or both "
            "(kW may not exceed kVA x power factor).",
            "power_factor": "Of the kVA rating; 1.0 when rated in kW only.",
            "listed_continuous_100": "Panels and busways: listed for 100 % continuous load, so the site's "
            "continuous-load derating (NEC 80 % rule) does not apply.",
            "parent": "The source upstream of this one (e.g. a panel fed from a UPS); empty = top of the chain.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["power_factor"].required = False  # empty: 1.0, as the API's default
        if self.site is not None:
            parents = PowerSource.objects.filter(site=self.site)
            if self.instance.pk:
                parents = parents.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = parents

    def clean_power_factor(self):
        value = self.cleaned_data.get("power_factor")
        return PowerSource._meta.get_field("power_factor").default if value is None else value


class PduForm(PlannerModelForm):
    class Meta:
        model = Pdu
        fields = form_fields("pdu")
        labels = {
            "side": "Feed side",
            "voltage_v": "Voltage (V)",
            "current_a": "Breaker rating (A)",
            "power_factor": "Power factor (0-1)",
            "source": "Fed from (power source)",
        }
        help_texts = {
            "side": "A or B. With both sides fed, each side must carry the whole rack alone.",
            "voltage_v": "Line-to-line voltage when 3-phase, e.g. 415 V or 208 V.",
            "current_a": "e.g. 63 A or 32 A. Usable kW = V x A x √3 (3-phase) x site derating x power factor / 1000.",
            "power_factor": "1.0 for modern PSUs; a lower factor lowers the usable kW.",
            "source": "The busway, panel or UPS above this PDU; its capacity is shared by every rack it feeds.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.site is not None:
            self.fields["rack"].queryset = Rack.objects.filter(row__room__site=self.site)
            self.fields["source"].queryset = PowerSource.objects.filter(site=self.site)


class CoolingLoopForm(PendingRacksMixin, PlannerModelForm):
    class Meta:
        model = CoolingLoop
        fields = form_fields("cooling_loop")
        labels = {
            "unit_capacity_kw": "Capacity of one unit (kW)",
            "units": "Units installed",
            "redundant_units": "Redundant units",
            "supply_temp_c": "Supply temperature (°C)",
            "delta_t_c": "Design ΔT (K)",
            "max_flow_lpm": "Maximum flow (L/min)",
            "unit_airflow_cfm": "Airflow of one unit (CFM)",
            "approach_c": "CDU approach (K)",
            "racks": "Racks served",
        }
        help_texts = {
            "room": "Empty: the loop serves the whole site.",
            "unit_capacity_kw": "e.g. a CRAH 90-120 kW, a rear door 35-75 kW, a CDU 400-2,000 kW.",
            "supply_temp_c": "Air loops: supply air; liquid loops: facility water (checked against node limits).",
            "delta_t_c": "Return minus supply: about 10 K for liquid loops, 12 K for room air.",
            "max_flow_lpm": "Liquid loops: the rated flow (CDU or pipework); empty = unknown, no flow limit checked.",
            "unit_airflow_cfm": "Air-side units (CRAH, in-row, rear door): the air one unit delivers; empty = unknown, "
            "airflow not checked. Delivered airflow = unit airflow x (units - redundant units).",
            "units": "Usable kW = unit capacity x (units - redundant units).",
            "approach_c": "Direct-liquid and immersion loops: node supply = facility supply + approach; empty = not "
            "given (the supply temperature is then checked at the facility side only).",
            "redundant_units": "Units held in reserve: N+1 → 1.",
            "racks": "Tick the racks a rear door, in-row unit or CDU serves (the loop's room's racks, with their "
            "row); none ticked = the whole room (or site).",
        }
        widgets = {"racks": forms.CheckboxSelectMultiple(attrs={"class": "checklist"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].empty_label = "- none: the loop serves the whole site -"
        if self.site is not None:
            self.fields["room"].queryset = Room.objects.filter(site=self.site)
            racks = Rack.objects.filter(row__room__site=self.site).select_related("row__room")
            room_id = self._room_id()
            # The loop's room: only its racks are offered, labelled by row. A submitted form is checked against
            # the site's racks, so a rack of another room is refused by the model's rule, which names it.
            if room_id is not None and not self.is_bound:
                racks = racks.filter(row__room_id=room_id)
                self.fields["racks"].label_from_instance = _rack_in_room_label
            else:
                self.fields["racks"].label_from_instance = _rack_label
            self.fields["racks"].queryset = racks.order_by("row__name", "position", "name")
        else:
            self.fields["racks"].label_from_instance = _rack_label

    def _room_id(self) -> int | None:
        """The room the form is about: the submitted one, else the initial one, else the loop's."""
        if self.is_bound:
            value = self.data.get(self.add_prefix("room"), "")
        else:
            value = self.initial.get("room", self.instance.room_id if self.instance.pk else None)
        value = getattr(value, "pk", value)
        return int(value) if str(value or "").isdigit() else None


class NodeModelForm(PlannerModelForm):
    class Meta:
        model = NodeModel
        fields = form_fields("node_model")
        labels = {
            "u_height": "Height (U)",
            "max_power_kw": "Max power (kW)",
            "typical_power_kw": "Typical power (kW)",
            "weight_kg": "Weight (kg)",
            "liquid_fraction": "Liquid fraction (0-1)",
            "airflow_cfm": "Airflow (CFM)",
            "psu_count": "PSUs installed",
            "psu_rating_kw": "PSU rating (kW each)",
            "psus_required": "PSUs required for full power",
            "max_inlet_temp_c": "Max air inlet (°C)",
            "max_supply_temp_c": "Max liquid supply (°C)",
            "heat_output_kw": "Published heat output (kW)",
            "rack_scale": "Rack-scale system",
            "gpus": "GPUs per system",
        }
        help_texts = {
            "gpus": "Empty = unknown (the N-1 sweep then counts 0 GPUs for it and says so).",
            "max_power_kw": "Vendor maximum input power; the planner budgets at this figure.",
            "typical_power_kw": "For reference; every rule uses max power.",
            "weight_kg": "Fully configured system weight; a rack-scale system includes its rack.",
            "liquid_fraction": "Share of heat carried by liquid: 0 air-cooled, about 0.8-0.9 for direct liquid.",
            "max_inlet_temp_c": "Vendor maximum air inlet; empty = unsourced (not checked).",
            "max_supply_temp_c": "Vendor maximum liquid supply; empty = unsourced or not liquid-cooled.",
            "airflow_cfm": "Optional; vendor figure in cubic feet per minute.",
            "heat_output_kw": "Vendor's published heat output (BTU/h / 3,412.14); empty = not published. Air heat "
            "is budgeted at the larger of this and max power.",
            "psus_required": "N of N+N: with one feed lost, half the PSUs must still carry max power.",
            "source": "Where each figure comes from (datasheet, page, date).",
        }
        widgets = {"source": forms.Textarea(attrs={"rows": 3}), "notes": forms.Textarea(attrs={"rows": 3})}


def _rack_label(rack: Rack) -> str:
    return f"{rack.row.room.name} / {rack.row.name} / {rack.name}"


def _rack_in_room_label(rack: Rack) -> str:
    return f"{rack.row.name} / {rack.name}"


class NodeForm(forms.Form):
    """Move, rename or change the status of a placed node (the service re-runs every rule on a move)."""

    rack = forms.ModelChoiceField(queryset=Rack.objects.none(), label="Rack")
    u_position = forms.IntegerField(min_value=1, max_value=60, label="Lowest U", help_text="1-based.")
    name = forms.CharField(max_length=100, label="Name", validators=[validate_clean_text])
    status = forms.ChoiceField(choices=Node.Status.choices, label="Status")

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rack"].queryset = Rack.objects.filter(row__room__site=site).select_related("row__room")
        self.fields["rack"].label_from_instance = _rack_label


KIND_FORMS = {
    "sites": SiteForm,
    "rooms": RoomForm,
    "rows": RowForm,
    "racks": RackForm,
    "power-sources": PowerSourceForm,
    "pdus": PduForm,
    "cooling-loops": CoolingLoopForm,
    "node-models": NodeModelForm,
}


class PlaceForm(forms.Form):
    """The placement wizard: a rack, a model and a quantity (and, for one unit, a U). Same bounds as
    ``POST /api/v1/placements/check/`` (``planner.validation``), so the page and the API accept the same input."""

    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        label="Room (for suggestions)",
        empty_label="— any room of the site —",
        help_text="Suggest racks in this room only; empty = the chosen rack's room, else the whole site.",
    )
    rack = forms.ModelChoiceField(queryset=Rack.objects.none(), label="Rack", empty_label="— choose a rack —")
    model = forms.ModelChoiceField(
        queryset=NodeModel.objects.order_by("vendor", "max_power_kw", "name"),
        to_field_name="slug",
        label="Model",
        empty_label="— choose a model —",
    )
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_PLACE_QUANTITY,
        initial=1,
        label="Quantity",
        help_text=f"Units to place, 1-{MAX_PLACE_QUANTITY}.",
    )
    u_position = forms.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        label="Lowest U (optional)",
        help_text="One unit only; empty = the lowest free block that fits.",
    )
    status = forms.ChoiceField(
        choices=Node.Status.choices, initial=Node.Status.PLANNED, label="Record as", required=False
    )
    name = forms.CharField(
        max_length=100,
        required=False,
        label="Name (optional)",
        help_text="One unit only; empty = '<model>-<n>'.",
        validators=[validate_clean_text],
    )

    def __init__(self, *args, site: Site | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        racks = Rack.objects.select_related("row__room__site").order_by("row__room__name", "row__name", "position")
        self.fields["rack"].queryset = racks.filter(row__room__site=site) if site is not None else racks.none()
        rooms = Room.objects.order_by("name")
        self.fields["room"].queryset = rooms.filter(site=site) if site is not None else rooms.none()
        self.fields["rack"].label_from_instance = _rack_label
        self.fields["model"].label_from_instance = lambda m: f"{m.name} ({m.max_power_kw:g} kW, {m.u_height} U)"
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("u_position") is not None and data["quantity"] != 1:
            self.add_error("u_position", "Give u_position only when placing one unit.")
        if data.get("name") and data["quantity"] != 1:
            self.add_error("name", "A name can be given only when placing one unit.")
        return data


class FeasibilityForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.order_by("name"), label="Site", empty_label="— choose a site —")
    model = forms.ModelChoiceField(
        queryset=NodeModel.objects.order_by("vendor", "max_power_kw", "name"),
        to_field_name="slug",
        label="Model",
        empty_label="— choose a model —",
    )
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, initial=8, label="Quantity", help_text=f"1-{MAX_QUANTITY:,} units."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].label_from_instance = lambda m: f"{m.name} ({m.max_power_kw:g} kW, {m.u_height} U)"
        self.fields["quantity"].widget.attrs["aria-describedby"] = "id_quantity_help"


class RetrofitPlanForm(forms.Form):
    """The rack page's retrofit question: ``model`` x ``quantity`` more units, or a total rack IT load
    ``target_kw``; the same input as ``GET /api/v1/racks/{id}/retrofits/`` (same bounds). The model choices
    come from the catalogue specs the page has already read (no query of its own)."""

    FIELDS = ("model", "quantity", "target_kw")

    model = forms.ChoiceField(required=False, label="Model")
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_PLACE_QUANTITY,
        required=False,
        label="Quantity",
        help_text="With a model; 1 if empty.",
    )
    target_kw = forms.FloatField(
        min_value=0.0,
        max_value=MAX_TARGET_KW,
        required=False,
        label="or a rack IT load (kW)",
        help_text="Plan for a total rack load instead of a model.",
    )

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "— choose a model —")] + [
            (m.slug, f"{m.name or m.slug} ({m.max_power_kw:g} kW)") for m in sorted(models, key=lambda m: m.slug)
        ]

    def clean(self):
        data = super().clean()
        has_model, has_target = bool(data.get("model")), data.get("target_kw") is not None
        if has_model == has_target and not self.errors:
            raise forms.ValidationError("Give either a model (with a quantity) or a rack IT load in kW.")
        if has_target and data.get("quantity") is not None:
            raise forms.ValidationError("A quantity goes with a model, not with a rack IT load.")
        return data


# --- the AI-factory layer (issue 17) ----------------------------------------------------------------------


class WorkloadForm(PlannerModelForm):
    """A workload; user regions one per line ``name; latitude; longitude; share``, residency ``DE, FR``."""

    user_regions_text = forms.CharField(
        required=False,
        label="User regions",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name; latitude; longitude; share (shares sum to 1), e.g. Frankfurt; 50.11; 8.68; 1",
    )
    residency_text = forms.CharField(
        required=False,
        label="Allowed jurisdictions",
        help_text="ISO 3166-1 alpha-2 codes, e.g. DE, FR; empty = anywhere.",
    )

    class Meta:
        from planner.models import Workload

        model = Workload
        fields = [
            "name",
            "kind",
            "model",
            "quantity",
            "target_tokens_per_s",
            "reference_workload",
            "scenario",
            "availability_target_pct",
            "latency_p99_ms",
            "growth_pct_per_quarter",
        ]
        labels = {
            "quantity": "Systems",
            "target_tokens_per_s": "Target tokens/s",
            "availability_target_pct": "Availability target (%)",
            "latency_p99_ms": "Latency budget, p99 RTT (ms)",
            "growth_pct_per_quarter": "Growth (% per quarter)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        inst = self.instance
        if inst.pk and not self.is_bound:
            self.initial["user_regions_text"] = "\n".join(
                f"{r['name']}; {r['latitude']:g}; {r['longitude']:g}; {r['share']:g}" for r in inst.user_regions
            )
            self.initial["residency_text"] = ", ".join(inst.residency)

    def clean_user_regions_text(self):
        regions = []
        for n, line in enumerate(self.cleaned_data["user_regions_text"].splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 4:
                raise forms.ValidationError(f"Line {n}: name; latitude; longitude; share.")
            try:
                lat, lon, share = (float(p) for p in parts[1:])
            except ValueError:
                raise forms.ValidationError(f"Line {n}: latitude, longitude and share are numbers.") from None
            regions.append({"name": parts[0], "latitude": lat, "longitude": lon, "share": share})
        return regions

    def clean_residency_text(self):
        return [c.strip() for c in self.cleaned_data["residency_text"].replace(";", ",").split(",") if c.strip()]

    def _post_clean(self):
        self.instance.user_regions = self.cleaned_data.get("user_regions_text", self.instance.user_regions)
        self.instance.residency = self.cleaned_data.get("residency_text", self.instance.residency)
        super()._post_clean()

    def add_error(self, field, error):
        # the model's errors on the JSON fields belong to their text fields on the page
        if isinstance(error, dict) or hasattr(error, "error_dict"):
            errors = error if isinstance(error, dict) else error.error_dict
            for src, dst in (("user_regions", "user_regions_text"), ("residency", "residency_text")):
                if src in errors:
                    errors[dst] = errors.pop(src)
        elif field in ("user_regions", "residency"):
            field = f"{field}_text"
        return super().add_error(field, error)


class SiteSelectionForm(forms.Form):
    workload = forms.ModelChoiceField(queryset=None, label="Workload", empty_label="— choose a workload —")
    hardware_usd_per_system = forms.FloatField(
        required=False, min_value=0, label="Hardware price per system (USD)", help_text="No sourced default."
    )
    hardware_lead_time_days = forms.FloatField(
        required=False, min_value=0, max_value=3650, label="Hardware lead time (days)", help_text="No sourced default."
    )
    colocation = forms.BooleanField(
        required=False, label="Compare a colocation offer at CBRE $184.06/kW-month (§7.3), location unknown"
    )

    def __init__(self, *args, **kwargs):
        from planner.models import Workload

        super().__init__(*args, **kwargs)
        self.fields["workload"].queryset = Workload.objects.select_related("model").order_by("name")
        for name in ("hardware_usd_per_system", "hardware_lead_time_days"):
            self.fields[name].validators.append(validate_magnitude)


class TcoForm(forms.Form):
    """The TCO page's question: the same inputs as ``POST /api/v1/tco/`` (same bounds); shares are in per cent
    on the page (0-100) and fractions in the API (0-1)."""

    PERCENT_FIELDS = ("utilization_pct", "idle_pct", "discount_pct")
    COLO_POWER = (("", "Default (billed on top, §7.3)"), ("on_top", "Billed on top"), ("included", "Included in rent"))

    site = forms.ModelChoiceField(queryset=Site.objects.order_by("name"), label="Site", empty_label="— choose a site —")
    model = forms.ModelChoiceField(
        queryset=NodeModel.objects.order_by("vendor", "max_power_kw", "name"),
        to_field_name="slug",
        label="Model",
        empty_label="— choose a model —",
    )
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=8, label="Quantity")
    horizon_years = forms.IntegerField(
        min_value=1, max_value=30, initial=5, required=False, label="Horizon (years)", help_text="Empty: 5."
    )
    utilization_pct = forms.FloatField(
        min_value=0.0,
        max_value=100.0,
        initial=100.0,
        required=False,
        label="Utilisation (%)",
        help_text="Share of max power used. Empty: 100.",
    )
    idle_pct = forms.FloatField(
        min_value=0.0,
        max_value=100.0,
        required=False,
        label="Idle draw (% of max)",
        help_text="Unsourced (§17.1). Empty: energy is a range from idle 0 to max power all year.",
    )
    gpus_per_node = forms.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        label="GPUs per system",
        help_text="Empty: the catalogue's count for the model.",
    )
    hardware_capex_usd = forms.FloatField(
        min_value=0.0,
        max_value=1e12,
        required=False,
        label="Hardware price (USD)",
        help_text="No sourced price. Empty: on-prem and colocation totals are unknown.",
    )
    hardware_life_years = forms.FloatField(
        min_value=0.1, max_value=50.0, required=False, label="Hardware life (years)", help_text="Empty: the horizon."
    )
    retrofit_capex_usd = forms.FloatField(
        min_value=0.0,
        max_value=1e12,
        required=False,
        label="Retrofit capex (USD)",
        help_text="Empty: the feasibility plan's retrofit cost (unknown where unsourced).",
    )
    discount_pct = forms.FloatField(
        min_value=0.0, max_value=99.0, required=False, label="Discount rate (%/year)", help_text="Empty: 0 %."
    )
    cloud_usd_per_gpu_hour = forms.FloatField(
        min_value=0.0, max_value=1e6, required=False, label="Your cloud price (USD/GPU-h)"
    )
    neocloud_reserved_usd_per_gpu_hour = forms.FloatField(
        min_value=0.0,
        max_value=1e6,
        required=False,
        label="Neocloud reserved (USD/GPU-h)",
        help_text="Empty: the GPU's sourced price (§17.2), if any.",
    )
    hyperscaler_on_demand_usd_per_gpu_hour = forms.FloatField(
        min_value=0.0,
        max_value=1e6,
        required=False,
        label="Hyperscaler on-demand (USD/GPU-h)",
        help_text="Empty: the GPU's sourced price (§17.2), if any.",
    )
    colo_usd_per_kw_month = forms.FloatField(
        min_value=0.0,
        max_value=1e6,
        required=False,
        label="Colocation rent (USD/kW/month)",
        help_text="Empty: CBRE H2 2024, $184.06 [S56].",
    )
    colo_power = forms.ChoiceField(choices=COLO_POWER, required=False, label="Colocation power")
    colo_lease_years = forms.FloatField(
        min_value=0.1, max_value=50.0, required=False, label="Colocation lease (years)", help_text="Empty: the horizon."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].label_from_instance = lambda m: f"{m.name} ({m.max_power_kw:g} kW, {m.gpus or 0} GPUs)"
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"

    def tco_inputs(self) -> dict:
        """The cleaned form as ``planner.tco.tco_for_order`` keyword arguments."""
        d = self.cleaned_data
        power = d.get("colo_power")

        def share(name):
            return None if d.get(name) is None else d[name] / 100.0

        return {
            "site": d["site"],
            "model": d["model"],
            "quantity": d["quantity"],
            "horizon_years": d["horizon_years"] or 5,
            "gpus_per_node": d.get("gpus_per_node"),
            "utilization": 1.0 if d.get("utilization_pct") is None else d["utilization_pct"] / 100.0,
            "idle_fraction": share("idle_pct"),
            "discount_rate": share("discount_pct"),
            "colo_includes_power": None if not power else power == "included",
            **{
                k: d.get(k)
                for k in (
                    "hardware_capex_usd",
                    "hardware_life_years",
                    "retrofit_capex_usd",
                    "cloud_usd_per_gpu_hour",
                    "neocloud_reserved_usd_per_gpu_hour",
                    "hyperscaler_on_demand_usd_per_gpu_hour",
                    "colo_usd_per_kw_month",
                    "colo_lease_years",
                )
            },
        }
