from django.contrib import admin

from planner.models import CapacityReport


@admin.register(CapacityReport)
class CapacityReportAdmin(admin.ModelAdmin):
    list_display = ["site", "day", "it_load_kw", "power_capacity_kw", "rack_count", "node_count", "updated_at"]
    list_filter = ["site"]
    list_select_related = ["site"]
    readonly_fields = ["created_at", "updated_at"]
