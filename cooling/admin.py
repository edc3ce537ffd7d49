from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cooling.forms import PendingRacksMixin
from cooling.models import CoolingLoop


class CoolingLoopAdminForm(PendingRacksMixin, forms.ModelForm):
    """The admin builds the fields from CoolingLoopAdmin (modelform_factory)."""


@admin.register(CoolingLoop)
class CoolingLoopAdmin(SimpleHistoryAdmin):
    form = CoolingLoopAdminForm
    list_display = [
        "name",
        "site",
        "room",
        "kind",
        "unit_capacity_kw",
        "units",
        "redundant_units",
        "fluid",
        "unit_airflow_cfm",
        "approach_c",
    ]
    list_filter = ["kind", "fluid", "site"]
    list_select_related = ["site", "room"]
    filter_horizontal = ["racks"]
