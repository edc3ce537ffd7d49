from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from racks.models import Node, NodeModel, Pdu, PowerSource, Rack, Room, Row, Site


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "slug",
        "country",
        "utility_capacity_kw",
        "power_derating",
        "derate_distribution",
        "design_pue",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Room)
class RoomAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "site",
        "floor_type",
        "floor_rated_load_kg_m2",
        "tile_rated_load_kg",
        "tile_rolling_load_kg",
        "floor_load_method",
    ]
    list_filter = ["floor_type", "site"]
    list_select_related = ["site"]
    search_fields = ["name"]


@admin.register(Row)
class RowAdmin(SimpleHistoryAdmin):
    list_display = ["name", "room", "containment", "aisle_width_mm", "air_kw_per_rack_limit"]
    list_filter = ["containment"]
    list_select_related = ["room"]
    search_fields = ["name"]


class PduInline(admin.TabularInline):
    model = Pdu
    extra = 0


@admin.register(Rack)
class RackAdmin(SimpleHistoryAdmin):
    list_display = ["name", "row", "position", "u_height", "max_load_kg", "empty_weight_kg"]
    list_select_related = ["row"]
    search_fields = ["name"]
    inlines = [PduInline]


@admin.register(PowerSource)
class PowerSourceAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "site",
        "kind",
        "capacity_kw",
        "capacity_kva",
        "power_factor",
        "listed_continuous_100",
        "parent",
    ]
    list_filter = ["kind", "site"]
    list_select_related = ["site", "parent"]


@admin.register(Pdu)
class PduAdmin(SimpleHistoryAdmin):
    list_display = ["name", "rack", "side", "phases", "voltage_v", "current_a", "power_factor", "source"]
    list_filter = ["side", "phases"]
    list_select_related = ["rack", "source"]
    raw_id_fields = ["rack"]


@admin.register(NodeModel)
class NodeModelAdmin(SimpleHistoryAdmin):
    list_display = [
        "slug",
        "vendor",
        "name",
        "u_height",
        "max_power_kw",
        "heat_output_kw",
        "weight_kg",
        "cooling",
        "rack_scale",
    ]
    list_filter = ["cooling", "rack_scale", "vendor"]
    search_fields = ["slug", "name"]


@admin.register(Node)
class NodeAdmin(SimpleHistoryAdmin):
    # Placements must pass the rules: the admin shows nodes but writes go through the API or the wizard.
    list_display = ["name", "rack", "model", "u_position", "status"]
    list_filter = ["status", "model"]
    list_select_related = ["rack", "model"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
