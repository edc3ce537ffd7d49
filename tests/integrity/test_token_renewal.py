"""The two halves of the budget-cache argument (``planner/budget_tokens.py``), each on its own.

- An autocommit ``save()`` (no transaction around it: a shell, a script) commits its pre_save token before its
  data; it renews the token again after the write, so no token seen before the data committed survives it.
- A budget build that raced a commit to its site (the token read again after the build differs) is not cached
  under the token it started with.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.signals import pre_save

from planner import budget_tokens, selectors
from racks.models import PowerSource, Site
from tests.security.conftest import powered_site


def _token(site_id):
    return Site.objects.filter(pk=site_id).values_list("budget_token", flat=True).get()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [False, True])
def test_an_autocommit_save_renews_the_token_again_after_its_write(atomic):
    from django.db import transaction

    built = powered_site()
    site_id, ups = built["site"].id, built["ups"]
    seen_before_write = []

    def after_renewal(sender, instance, **kwargs):  # runs after budget_tokens' pre_save receiver
        seen_before_write.append(_token(site_id))

    pre_save.connect(after_renewal, sender=PowerSource, dispatch_uid="test_after_renewal")
    try:
        ups.capacity_kw = 123.0
        if atomic:
            with transaction.atomic():
                ups.save()
        else:
            assert not connection.in_atomic_block
            ups.save()
    finally:
        pre_save.disconnect(sender=PowerSource, dispatch_uid="test_after_renewal")
    if atomic:
        # One renewal, committed together with the write: the token seen mid-write is the final one.
        assert _token(site_id) == seen_before_write[0]
    else:
        # The mid-write token was committed (visible to every session) while the old capacity still stood:
        # it must not be the token of the new state.
        assert _token(site_id) != seen_before_write[0]
    assert PowerSource.objects.get(pk=ups.pk).capacity_kw == 123.0


@pytest.mark.django_db
def test_a_build_that_raced_a_write_is_not_cached_under_its_first_token(monkeypatch):
    built = powered_site()
    site = Site.objects.get(pk=built["site"].id)
    started_with = site.budget_token
    selectors.budget_cache.clear()
    real_load = selectors._load_site_budgets
    builds = []

    def load_racing_a_write(site_id):
        budgets = real_load(site_id)
        if not builds:  # a write to the site commits while the first build runs
            budget_tokens.touch_sites(Q(pk=site_id))
        builds.append(budgets)
        return budgets

    monkeypatch.setattr(selectors, "_load_site_budgets", load_racing_a_write)
    result = selectors.site_budgets(site)
    assert len(builds) == 2  # rebuilt under the new token
    assert result is builds[1]
    assert selectors.budget_cache.get((site.id, started_with)) is None
    assert selectors.budget_cache.get((site.id, _token(site.id))) is builds[1]
    # Clean case: no write while building, one build, cached under the token it started with.
    selectors.budget_cache.clear()
    fresh = Site.objects.get(pk=site.id)
    builds.clear()
    builds.append("no race")
    assert selectors.site_budgets(fresh) is builds[1]
    assert selectors.budget_cache.get((fresh.id, fresh.budget_token)) is builds[1]
