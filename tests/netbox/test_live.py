"""Optional: a dry run against a real NetBox, when NETBOX_URL and NETBOX_TOKEN are set (skipped otherwise)."""

import os

import pytest

from planner.netbox.service import ImportRefused, netbox_import
from racks.models import Site

URL, TOKEN = os.environ.get("NETBOX_URL"), os.environ.get("NETBOX_TOKEN")


@pytest.mark.django_db
@pytest.mark.skipif(not (URL and TOKEN), reason="NETBOX_URL and NETBOX_TOKEN are not set")
def test_dry_run_against_a_real_netbox():
    try:
        summary = netbox_import(client_or_url=URL, token=TOKEN, dry_run=True, skip_incomplete=True)
    except ImportRefused as exc:  # a real estate may clash or be unmappable: the refusal must say why
        assert exc.errors or exc.detail
        return
    assert summary.dry_run and Site.objects.count() == 0
    assert summary.counts["sites"] == len(summary.sites)
