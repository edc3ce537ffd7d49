"""Form helpers shared by the admin and the browser pages."""

from __future__ import annotations


class PendingRacksMixin:
    """For a ModelForm of a cooling loop: the model's ``clean()`` and the write-time guard check the racks chosen
    in the form, not the ones the loop lists now (``CoolingLoop.pending_rack_ids``)."""

    def _post_clean(self):
        if "racks" in self.cleaned_data:
            self.instance.pending_rack_ids = [rack.pk for rack in self.cleaned_data["racks"]]
        super()._post_clean()
