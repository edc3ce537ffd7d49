"""Lists of every resource (issue 16): search, filters, sorting, pagination and CSV/XLSX export, with bulk edit
and bulk delete for writers; and the global search of the header.

One registry entry per kind (the API's resource names). Tables are django-tables2 (``?sort=``, ``?page=``,
``?per_page=``, ``?_export=csv|xlsx``), filters django-filter (``?q=`` searches the kind's names). Every list
answers in a fixed number of queries: parents are joined, counts annotated, never fetched per row. Writes go
through ``planner.services.bulk`` (one transaction, locked, the engine re-run; all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import django_filters as df
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.forms import modelform_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_tables2.export import TableExport

from cooling.models import CoolingLoop
from planner import services
from planner.models import Reservation
from planner.roles import can_write
from planner.services import bulk
from planner.web.access import page, reader_required, writer_required
from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

PER_PAGE = 50
MAX_PER_PAGE = 500
EXPORT_FORMATS = ("csv", "xlsx")


def _search(fields: tuple[str, ...]):
    def method(queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q()
        for f in fields:
            q |= Q(**{f"{f}__icontains": value})
        return queryset.filter(q)

    return method


def _q(fields: tuple[str, ...]) -> df.CharFilter:
    return df.CharFilter(label="Search", method=_search(fields), help_text="Part of a name.")


def _site_filter(path: str) -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(field_name=path, label="Site", queryset=Site.objects.order_by("name"))


def _room_filter(path: str) -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(
        field_name=path, label="Room", queryset=Room.objects.select_related("site").order_by("site__name", "name")
    )


class _RoomLabel:
    """Room choices named "site / room" (rooms of two sites may share a name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("room",):
            if name in self.filters:
                self.form.fields[name].label_from_instance = lambda r: f"{r.site.name} / {r.name}"


class SiteFilter(df.FilterSet):
    q = _q(("name", "slug", "country"))

    class Meta:
        model = Site
        fields = ["country"]


class RoomFilter(df.FilterSet):
    q = _q(("name",))
    site = _site_filter("site")

    class Meta:
        model = Room
        fields = ["floor_type"]


class RowFilter(_RoomLabel, df.FilterSet):
    q = _q(("name", "room__name"))
    site = _site_filter("room__site")
    room = _room_filter("room")

    class Meta:
        model = Row
        fields = ["containment"]


class RackFilter(_RoomLabel, df.FilterSet):
    q = _q(("name", "row__name", "row__room__name"))
    site = _site_filter("row__room__site")
    room = _room_filter("row__room")
    row = df.NumberFilter(field_name="row", label="Row id", widget=forms.HiddenInput)
    empty = df.BooleanFilter(label="Empty (no node)", method="filter_empty")

    class Meta:
        model = Rack
        fields = []

    def filter_empty(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(n_nodes=0) if value else queryset.filter(n_nodes__gt=0)


class PduFilter(df.FilterSet):
    q = _q(("name", "rack__name", "source__name"))
    site = _site_filter("rack__row__room__site")
    rack = df.NumberFilter(field_name="rack", label="Rack id", widget=forms.HiddenInput)

    class Meta:
        model = Pdu
        fields = ["side", "phases"]


class PowerSourceFilter(df.FilterSet):
    q = _q(("name",))
    site = _site_filter("site")

    class Meta:
        model = PowerSource
        fields = ["kind"]


class CoolingLoopFilter(_RoomLabel, df.FilterSet):
    q = _q(("name",))
    site = _site_filter("site")
    room = _room_filter("room")

    class Meta:
        model = CoolingLoop
        fields = ["kind", "fluid"]


class NodeModelFilter(df.FilterSet):
    q = _q(("slug", "name", "vendor"))

    class Meta:
        model = NodeModel
        fields = ["vendor", "cooling", "rack_scale"]


class NodeFilter(df.FilterSet):
    q = _q(("name", "model__slug", "model__name", "rack__name"))
    site = _site_filter("rack__row__room__site")
    model = df.ModelChoiceFilter(queryset=NodeModel.objects.order_by("name"), label="Model")
    rack = df.NumberFilter(field_name="rack", label="Rack id", widget=forms.HiddenInput)

    class Meta:
        model = Node
        fields = ["status"]


class ReservationFilter(df.FilterSet):
    site = _site_filter("site")
    model = df.ModelChoiceFilter(queryset=NodeModel.objects.order_by("name"), label="Model")

    class Meta:
        model = Reservation
        fields = ["status"]


# ---- tables ------------------------------------------------------------------------------------------------


class PlannerTable(tables.Table):
    selected = tables.CheckBoxColumn(
        accessor="pk",
        orderable=False,
        exclude_from_export=True,
        attrs={"th__input": {"data-select-all": "", "aria-label": "Select all on this page"}},
        verbose_name="Select",
    )

    class Meta:
        attrs = {"class": "data compact"}
        empty_text = "Nothing matches."
        template_name = "planner/_table.html"


def _link(url_of):
    return lambda record: url_of(record)


class SiteTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/sites/{r.pk}/"))
    n_racks = tables.Column(verbose_name="Racks", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = Site
        fields = ("selected", "name", "slug", "country", "utility_capacity_kw", "power_derating", "n_racks")


class RoomTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/rooms/{r.pk}/"))
    site = tables.Column(accessor="site__name", verbose_name="Site")
    n_racks = tables.Column(verbose_name="Racks", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = Room
        fields = ("selected", "name", "site", "floor_type", "floor_rated_load_kg_m2", "tile_rated_load_kg", "n_racks")


class RowTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/rooms/{r.room_id}/"))
    site = tables.Column(accessor="room__site__name", verbose_name="Site")
    room = tables.Column(accessor="room__name", verbose_name="Room")
    n_racks = tables.Column(verbose_name="Racks", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = Row
        fields = ("selected", "name", "site", "room", "containment", "aisle_width_mm", "air_kw_per_rack_limit")
        sequence = ("selected", "name", "site", "room", "containment", "...")


class RackTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/racks/{r.pk}/"))
    site = tables.Column(accessor="row__room__site__name", verbose_name="Site")
    room = tables.Column(accessor="row__room__name", verbose_name="Room")
    row = tables.Column(accessor="row__name", verbose_name="Row")
    n_pdus = tables.Column(verbose_name="PDUs", attrs={"td": {"class": "num"}})
    n_nodes = tables.Column(verbose_name="Nodes", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = Rack
        fields = (
            "selected",
            "name",
            "site",
            "room",
            "row",
            "position",
            "u_height",
            "width_mm",
            "depth_mm",
            "max_load_kg",
            "empty_weight_kg",
        )


class PduTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/racks/{r.rack_id}/"))
    site = tables.Column(accessor="rack__row__room__site__name", verbose_name="Site")
    rack = tables.Column(accessor="rack__name", verbose_name="Rack", linkify=_link(lambda r: f"/racks/{r.rack_id}/"))
    source = tables.Column(accessor="source__name", verbose_name="Fed from", default="—")

    class Meta(PlannerTable.Meta):
        model = Pdu
        fields = ("selected", "name", "site", "rack", "side", "phases", "voltage_v", "current_a", "power_factor")


class PowerSourceTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/power-sources/{r.pk}/"))
    site = tables.Column(accessor="site__name", verbose_name="Site")
    parent = tables.Column(accessor="parent__name", verbose_name="Fed from", default="—")
    n_pdus = tables.Column(verbose_name="PDUs fed", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = PowerSource
        fields = ("selected", "name", "site", "kind", "capacity_kw", "capacity_kva", "parent")


class CoolingLoopTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/cooling-loops/{r.pk}/"))
    site = tables.Column(accessor="site__name", verbose_name="Site")
    room = tables.Column(accessor="room__name", verbose_name="Room", default="whole site")
    n_racks = tables.Column(verbose_name="Racks listed", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = CoolingLoop
        fields = (
            "selected",
            "name",
            "site",
            "room",
            "kind",
            "unit_capacity_kw",
            "units",
            "redundant_units",
            "supply_temp_c",
            "fluid",
        )


class NodeModelTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/catalogue/#model-{r.slug}"))
    placed = tables.Column(verbose_name="Placed", attrs={"td": {"class": "num"}})

    class Meta(PlannerTable.Meta):
        model = NodeModel
        fields = ("selected", "slug", "name", "vendor", "u_height", "max_power_kw", "weight_kg", "cooling")
        sequence = ("selected", "name", "...")


class NodeTable(PlannerTable):
    name = tables.Column(linkify=_link(lambda r: f"/racks/{r.rack_id}/"))
    model = tables.Column(accessor="model__name", verbose_name="Model")
    site = tables.Column(accessor="rack__row__room__site__name", verbose_name="Site")
    rack = tables.Column(accessor="rack__name", verbose_name="Rack", linkify=_link(lambda r: f"/racks/{r.rack_id}/"))

    class Meta(PlannerTable.Meta):
        model = Node
        fields = ("selected", "name", "model", "site", "rack", "u_position", "status", "created_at")


class ReservationTable(PlannerTable):
    id = tables.Column(verbose_name="Reservation", linkify=_link(lambda r: f"/reservations/{r.pk}/"))
    site = tables.Column(accessor="site__name", verbose_name="Site")
    model = tables.Column(accessor="model__name", verbose_name="Model")
    created_by = tables.Column(accessor="created_by__username", verbose_name="By", default="—")

    class Meta(PlannerTable.Meta):
        model = Reservation
        fields = ("id", "site", "model", "quantity", "requested", "status", "created_by", "created_at")
        exclude = ("selected",)


# ---- the registry ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListKind:
    key: str
    label: str  # plural, for titles
    queryset: object  # () -> QuerySet
    filterset: type
    table: type
    edit_fields: tuple[str, ...] = ()  # fields a bulk edit may set (empty: no bulk edit)
    deletable: bool = True
    importable: bool = True
    order: tuple[str, ...] = field(default=("name",))


def _racks_qs() -> QuerySet:
    return Rack.objects.select_related("row__room__site").annotate(
        n_nodes=Count("nodes", distinct=True), n_pdus=Count("pdus", distinct=True)
    )


LISTS: dict[str, ListKind] = {
    k.key: k
    for k in (
        ListKind(
            "sites",
            "Sites",
            lambda: Site.objects.annotate(n_racks=Count("rooms__rows__racks")),
            SiteFilter,
            SiteTable,
            ("country", "power_derating", "derate_distribution", "energy_price_per_kwh", "carbon_kg_per_kwh"),
        ),
        ListKind(
            "rooms",
            "Rooms",
            lambda: Room.objects.select_related("site").annotate(n_racks=Count("rows__racks")),
            RoomFilter,
            RoomTable,
            ("floor_type", "floor_rated_load_kg_m2", "tile_rated_load_kg", "tile_rolling_load_kg", "floor_load_method"),
            order=("site__name", "name"),
        ),
        ListKind(
            "rows",
            "Rows",
            lambda: Row.objects.select_related("room__site").annotate(n_racks=Count("racks")),
            RowFilter,
            RowTable,
            ("containment", "aisle_width_mm", "air_kw_per_rack_limit"),
            order=("room__site__name", "room__name", "name"),
        ),
        ListKind(
            "racks",
            "Racks",
            _racks_qs,
            RackFilter,
            RackTable,
            ("u_height", "width_mm", "depth_mm", "max_load_kg", "empty_weight_kg"),
            order=("row__room__site__name", "row__room__name", "row__name", "position"),
        ),
        ListKind(
            "pdus",
            "PDUs",
            lambda: Pdu.objects.select_related("rack__row__room__site", "source"),
            PduFilter,
            PduTable,
            ("phases", "voltage_v", "current_a", "power_factor", "source"),
            order=("rack__row__room__site__name", "rack__name", "side", "name"),
        ),
        ListKind(
            "power-sources",
            "Power sources",
            lambda: PowerSource.objects.select_related("site", "parent").annotate(n_pdus=Count("pdus")),
            PowerSourceFilter,
            PowerSourceTable,
            ("capacity_kw", "capacity_kva", "power_factor", "listed_continuous_100"),
            order=("site__name", "name"),
        ),
        ListKind(
            "cooling-loops",
            "Cooling loops",
            lambda: CoolingLoop.objects.select_related("site", "room").annotate(n_racks=Count("racks")),
            CoolingLoopFilter,
            CoolingLoopTable,
            ("unit_capacity_kw", "units", "redundant_units", "supply_temp_c", "delta_t_c", "max_flow_lpm"),
            order=("site__name", "name"),
        ),
        ListKind(
            "node-models",
            "Node models",
            lambda: NodeModel.objects.annotate(placed=Count("nodes")),
            NodeModelFilter,
            NodeModelTable,
            ("vendor", "typical_power_kw", "max_inlet_temp_c", "max_supply_temp_c"),
            order=("vendor", "name"),
        ),
        ListKind(
            "nodes",
            "Nodes",
            lambda: Node.objects.select_related("model", "rack__row__room__site"),
            NodeFilter,
            NodeTable,
            (),
            importable=False,
            order=("rack__row__room__site__name", "rack__name", "u_position"),
        ),
        ListKind(
            "reservations",
            "Reservations",
            lambda: Reservation.objects.select_related("site", "model", "created_by"),
            ReservationFilter,
            ReservationTable,
            (),
            deletable=False,
            importable=False,
            order=("-created_at", "-id"),
        ),
    )
}


def _list_kind(key: str) -> ListKind:
    try:
        return LISTS[key]
    except KeyError:
        raise Http404("No such list.") from None


def _per_page(request: HttpRequest) -> int:
    value = request.GET.get("per_page", "")
    return min(int(value), MAX_PER_PAGE) if value.isdigit() and int(value) > 0 else PER_PAGE


@reader_required
def object_list(request: HttpRequest, kind_key: str) -> HttpResponse:
    kind = _list_kind(kind_key)
    filterset = kind.filterset(request.GET or None, queryset=kind.queryset().order_by(*kind.order))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else kind.queryset().order_by(*kind.order)
    writer = can_write(request.user)
    exclude = () if writer and (kind.edit_fields or kind.deletable) else ("selected",)
    table = kind.table(queryset, exclude=exclude)
    export = request.GET.get("_export", "")
    if export:
        if export not in EXPORT_FORMATS:
            return HttpResponse(f"Unknown export format {export[:20]!r}: csv or xlsx.", status=400)
        tables.RequestConfig(request, paginate=False).configure(table)
        exporter = TableExport(export, table, exclude_columns=("selected",))
        return exporter.response(f"{kind.key}.{export}")
    tables.RequestConfig(request, paginate={"per_page": _per_page(request)}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "planner/object_list.html",
        {
            "kind": kind,
            "title": kind.label,
            "filter": filterset,
            "table": table,
            "query": query.urlencode(),
            "bulk": writer and (kind.edit_fields or kind.deletable),
            "lists": [(k.key, k.label) for k in LISTS.values()],
        },
        status=400 if filterset.is_bound and filterset.errors else 200,
    )


# ---- bulk edit and delete --------------------------------------------------------------------------------------


def _selected_ids(request: HttpRequest) -> list[int]:
    """The rows ticked on the list (POST), or named in the query (GET ``?selected=``: a link to the form)."""
    data = request.POST if request.method == "POST" else request.GET
    ids = [v for v in data.getlist("selected") if v.isdigit()]
    return sorted({int(v) for v in ids})


def _bulk_form(kind: ListKind, data=None):
    model = kind.queryset().model
    form_class = modelform_factory(model, fields=kind.edit_fields)
    form = form_class(data)
    for name, f in form.fields.items():
        f.required = False
        if isinstance(f, forms.BooleanField):  # a tri-state: unchanged, yes, no
            form.fields[name] = forms.NullBooleanField(
                required=False,
                label=f.label,
                widget=forms.Select(choices=[("", "— unchanged —"), ("true", "Yes"), ("false", "No")]),
            )
        elif hasattr(f, "empty_label"):
            f.empty_label = "— unchanged —"
        elif isinstance(f, forms.TypedChoiceField):
            f.choices = [("", "— unchanged —"), *[c for c in f.choices if c[0] != ""]]
        f.help_text = "Empty: unchanged."
    return form


def _changes(form) -> dict:
    raw = form.data
    return {name: value for name, value in form.cleaned_data.items() if str(raw.get(name, "")).strip() != ""}


@writer_required
def bulk_edit(request: HttpRequest, kind_key: str) -> HttpResponse:
    kind = _list_kind(kind_key)
    if not kind.edit_fields:
        raise Http404("This list has no bulk edit.")
    ids = _selected_ids(request)
    model = kind.queryset().model
    applying = "apply" in request.POST
    form = _bulk_form(kind, request.POST if applying else None)
    context = {"kind": kind, "form": form, "ids": ids, "count": len(ids), "error": None, "needs_confirm": False}
    if not ids and request.method == "POST":
        messages.error(request, "Select at least one row first.")
        return redirect("object-list", kind.key)
    if applying and request.method == "POST" and form.is_valid():
        changes = _changes(form)
        try:
            objects = bulk.objects_bulk_update(
                model=model,
                ids=ids,
                changes=changes,
                allowed=kind.edit_fields,
                confirm=request.POST.get("confirm"),
            )
        except bulk.CapacityLoss as exc:
            context.update(error=exc.payload["detail"], needs_confirm=True)
            return page(request, "planner/bulk_edit.html", context, status=409)
        except services.InvalidInput as exc:
            context["error"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            return page(request, "planner/bulk_edit.html", context, status=400)
        except services.NotFound as exc:
            context["error"] = str(exc)
            return page(request, "planner/bulk_edit.html", context, status=404)
        messages.success(request, f"Changed {', '.join(changes)} on {len(objects)} {kind.label.lower()}.")
        return redirect("object-list", kind.key)
    return page(request, "planner/bulk_edit.html", context, status=400 if form.errors else 200)


@writer_required
def bulk_delete(request: HttpRequest, kind_key: str) -> HttpResponse:
    kind = _list_kind(kind_key)
    if not kind.deletable:
        raise Http404("This list has no bulk delete.")
    ids = _selected_ids(request)
    if not ids and request.method == "POST":
        messages.error(request, "Select at least one row first.")
        return redirect("object-list", kind.key)
    model = kind.queryset().model
    try:
        impact = bulk.bulk_delete_impact(model=model, ids=ids) if ids else {"objects": [], "nodes": {}}
    except services.NotFound as exc:
        raise Http404(str(exc)) from None
    context = {
        "kind": kind,
        "ids": ids,
        "objects": impact["objects"][:50],
        "more": max(0, len(impact["objects"]) - 50),
        "nodes": impact["nodes"],
        "node_total": sum(impact["nodes"].values()),
        "error": None,
    }
    if request.method != "POST" or "apply" not in request.POST:
        return page(request, "planner/bulk_delete.html", context)
    if not request.POST.get("sure"):
        context["error"] = "Tick the box to confirm the delete."
        return page(request, "planner/bulk_delete.html", context, status=400)
    try:
        count = bulk.objects_bulk_delete(model=model, ids=ids, confirm=request.POST.get("confirm"))
    except services.Conflict as exc:
        context["error"] = exc.payload.get("detail", str(exc))
        context["needs_confirm"] = True
        return page(request, "planner/bulk_delete.html", context, status=409)
    messages.success(request, f"Deleted {count} {kind.label.lower()}.")
    return redirect("object-list", kind.key)


# ---- the global search ---------------------------------------------------------------------------------------

SEARCH_LIMIT = 10
SEARCHES = (  # (heading, queryset, fields searched, url of a hit, label of a hit)
    ("Sites", lambda: Site.objects.all(), ("name", "slug"), lambda o: f"/sites/{o.pk}/", lambda o: o.name),
    (
        "Rooms",
        lambda: Room.objects.select_related("site"),
        ("name",),
        lambda o: f"/rooms/{o.pk}/",
        lambda o: f"{o.site.name} / {o.name}",
    ),
    (
        "Rows",
        lambda: Row.objects.select_related("room__site"),
        ("name",),
        lambda o: f"/rooms/{o.room_id}/",
        lambda o: f"{o.room.site.name} / {o.room.name} / {o.name}",
    ),
    (
        "Racks",
        lambda: Rack.objects.select_related("row__room__site"),
        ("name",),
        lambda o: f"/racks/{o.pk}/",
        lambda o: f"{o.row.room.site.name} / {o.row.room.name} / {o.row.name} / {o.name}",
    ),
    (
        "PDUs",
        lambda: Pdu.objects.select_related("rack"),
        ("name", "rack__name"),
        lambda o: f"/racks/{o.rack_id}/",
        lambda o: f"{o.rack.name} / {o.name}",
    ),
    (
        "Power sources",
        lambda: PowerSource.objects.select_related("site"),
        ("name",),
        lambda o: f"/sites/{o.site_id}/#power",
        lambda o: f"{o.site.name} / {o.name}",
    ),
    (
        "Cooling loops",
        lambda: CoolingLoop.objects.select_related("site"),
        ("name",),
        lambda o: f"/sites/{o.site_id}/#cooling",
        lambda o: f"{o.site.name} / {o.name}",
    ),
    (
        "Node models",
        lambda: NodeModel.objects.all(),
        ("name", "slug", "vendor"),
        lambda o: f"/catalogue/#model-{o.slug}",
        lambda o: o.name,
    ),
    (
        "Nodes",
        lambda: Node.objects.select_related("rack"),
        ("name",),
        lambda o: f"/racks/{o.rack_id}/",
        lambda o: f"{o.rack.name} / {o.name}",
    ),
)


@reader_required
def search(request: HttpRequest) -> HttpResponse:
    """One box for every name: up to ``SEARCH_LIMIT`` hits per kind (one query per kind)."""
    q = request.GET.get("q", "").strip()[:100]
    groups = []
    if q:
        for heading, qs, fields, url_of, label_of in SEARCHES:
            cond = Q()
            for f in fields:
                cond |= Q(**{f"{f}__icontains": q})
            hits = list(qs().filter(cond).order_by("pk")[: SEARCH_LIMIT + 1])
            if hits:
                groups.append(
                    {
                        "heading": heading,
                        "hits": [{"url": url_of(o), "label": label_of(o)} for o in hits[:SEARCH_LIMIT]],
                        "more": len(hits) > SEARCH_LIMIT,
                    }
                )
    return page(request, "planner/search.html", {"q": q, "groups": groups})
