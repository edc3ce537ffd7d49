from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cooling.models import CoolingLoop


@admin.register(CoolingLoop)
class CoolingLoopAdmin(SimpleHistoryAdmin):
    list_display = ["name", "site", "room", "kind", "unit_capacity_kw", "units", "redundant_units", "fluid"]
    list_filter = ["kind", "fluid", "site"]
    list_select_related = ["site", "room"]
    filter_horizontal = ["racks"]
