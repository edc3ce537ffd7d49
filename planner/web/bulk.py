"""Bulk entry pages (writers only): a row of racks with A+B PDUs from one template, and a rack cloned with its
PDUs. Both call ``planner.services.bulk`` (one transaction, all or nothing) and show its field errors."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from planner import services
from planner.services import bulk
from planner.validation import validate_clean_text
from planner.web.access import page, writer_required
from racks.models import Pdu, PowerSource, Rack, Row


class RowRacksForm(forms.Form):
    """One form for a row of racks: names, positions, frame and the PDU of each side."""

    count = forms.IntegerField(min_value=1, max_value=bulk.MAX_ROW_RACKS, initial=6, label="Racks to add")
    name_prefix = forms.CharField(
        max_length=90, label="Name prefix", validators=[validate_clean_text], help_text="e.g. R1- gives R1-01, R1-02…"
    )
    first_number = forms.IntegerField(min_value=0, max_value=999_999, initial=1, label="First number")
    digits = forms.IntegerField(min_value=1, max_value=6, initial=2, label="Digits", help_text="Zero-padded width.")
    first_position = forms.IntegerField(
        min_value=1, label="First position", help_text="Consecutive slots from here; default the next free one."
    )
    u_height = forms.IntegerField(min_value=1, max_value=60, initial=42, label="Height (U)")
    width_mm = forms.FloatField(min_value=1, max_value=10_000, initial=600, label="Width (mm)")
    depth_mm = forms.FloatField(min_value=1, max_value=10_000, initial=1200, label="Depth (mm)")
    max_load_kg = forms.FloatField(min_value=0, max_value=100_000, label="Frame load rating (kg)")
    empty_weight_kg = forms.FloatField(min_value=0, max_value=100_000, label="Empty frame weight (kg)")
    pdu_sides = forms.MultipleChoiceField(
        choices=Pdu.Side.choices,
        initial=["A", "B"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="PDU sides",
        help_text="One PDU per side ticked (PDU-A, PDU-B); none = no PDU.",
    )
    pdu_phases = forms.TypedChoiceField(choices=Pdu.Phases.choices, coerce=int, initial=3, label="PDU phases")
    pdu_voltage_v = forms.FloatField(min_value=1, max_value=1000, initial=415, label="PDU voltage (V)")
    pdu_current_a = forms.FloatField(min_value=0.1, max_value=1000, initial=32, label="PDU breaker (A)")
    pdu_power_factor = forms.FloatField(min_value=0.01, max_value=1.0, initial=1.0, label="PDU power factor")
    source_a = forms.ModelChoiceField(queryset=PowerSource.objects.none(), required=False, label="A side fed from")
    source_b = forms.ModelChoiceField(queryset=PowerSource.objects.none(), required=False, label="B side fed from")

    def __init__(self, *args, row: Row, **kwargs):
        super().__init__(*args, **kwargs)
        sources = PowerSource.objects.filter(site_id=row.room.site_id).order_by("name")
        self.fields["source_a"].queryset = sources
        self.fields["source_b"].queryset = sources
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"


def _apply_errors(form, exc: services.InvalidInput) -> None:
    for name, msgs in exc.errors.items():
        for message in msgs:
            form.add_error(
                name if name in form.fields else None, f"{name}: {message}" if name not in form.fields else message
            )


@writer_required
def row_racks_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Row.objects.select_related("room__site"), pk=pk)
    initial = {"first_position": bulk.rack_next_position(row_id=row.pk), "name_prefix": f"{row.name}-"}
    form = RowRacksForm(request.POST or None, initial=initial, row=row)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            racks = bulk.racks_create_row(
                row_id=row.pk,
                count=d["count"],
                name_prefix=d["name_prefix"],
                first_number=d["first_number"],
                digits=d["digits"],
                first_position=d["first_position"],
                u_height=d["u_height"],
                width_mm=d["width_mm"],
                depth_mm=d["depth_mm"],
                max_load_kg=d["max_load_kg"],
                empty_weight_kg=d["empty_weight_kg"],
                pdus=bulk.PduTemplate(
                    sides=tuple(d["pdu_sides"]),
                    phases=d["pdu_phases"],
                    voltage_v=d["pdu_voltage_v"],
                    current_a=d["pdu_current_a"],
                    power_factor=d["pdu_power_factor"],
                    source_a_id=d["source_a"].pk if d["source_a"] else None,
                    source_b_id=d["source_b"].pk if d["source_b"] else None,
                ),
            )
        except services.InvalidInput as exc:
            _apply_errors(form, exc)
        except services.NotFound as exc:
            raise Http404(str(exc)) from None
        else:
            messages.success(
                request,
                f"Created {len(racks)} racks in row {row.name}: {racks[0].name} to {racks[-1].name} "
                f"(positions {racks[0].position}-{racks[-1].position}), with {len(d['pdu_sides']) * len(racks)} PDUs.",
            )
            return redirect("room-detail", row.room_id)
    return page(
        request,
        "planner/form.html",
        {
            "form": form,
            "title": f"Add a row of racks to {row.room.name} / {row.name}",
            "site": row.room.site,
            "cancel_url": f"/rooms/{row.room_id}/",
        },
        status=400 if form.errors else 200,
    )


class CloneForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Name", validators=[validate_clean_text])
    position = forms.IntegerField(min_value=1, label="Position in the row")


@writer_required
def rack_clone(request: HttpRequest, pk: int) -> HttpResponse:
    rack = get_object_or_404(Rack.objects.select_related("row__room__site"), pk=pk)
    form = CloneForm(
        request.POST or None,
        initial={"name": f"{rack.name}-copy", "position": bulk.rack_next_position(row_id=rack.row_id)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            clone = bulk.rack_clone(
                rack_id=rack.pk, name=form.cleaned_data["name"] or None, position=form.cleaned_data["position"]
            )
        except services.InvalidInput as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Cloned rack {rack.name} as {clone.name} (position {clone.position}).")
            return redirect("rack-detail", clone.pk)
    return page(
        request,
        "planner/form.html",
        {
            "form": form,
            "title": f"Clone rack {rack.name} with its PDUs",
            "site": rack.row.room.site,
            "cancel_url": f"/racks/{rack.pk}/",
        },
        status=400 if form.errors else 200,
    )
