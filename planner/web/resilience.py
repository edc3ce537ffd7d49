"""The resilience page: a site's N-1 sweep (``planner.resilience.site_resilience``), worst first."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from planner import resilience
from planner.web.access import page, reader_required
from racks.models import Site

RACKS_SHOWN = 30  # per element; the API lists them all


@reader_required
def site_resilience_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Every single element lost in turn; the single points of failure first, each with the racks it takes
    down (links to their rack pages). The same answer as ``GET /api/v1/sites/{id}/resilience/``."""
    site = Site.objects.filter(pk=pk).only("id", "name", "country").first()
    if site is None:
        raise Http404("No such site.")
    try:
        sweep = resilience.site_resilience(pk)
    except Site.DoesNotExist:
        raise Http404("No such site.") from None
    elements = [
        {
            **e,
            "kind_label": resilience.KIND_LABELS.get(e["kind"], e["kind"]),
            "racks_shown": e["racks"][:RACKS_SHOWN],
            "racks_more": max(len(e["racks"]) - RACKS_SHOWN, 0),
        }
        for e in sweep["elements"]
    ]
    return page(
        request,
        "planner/site_resilience.html",
        {
            "site": site,
            "spofs": [e for e in elements if e["spof"]],
            "others": [e for e in elements if not e["spof"]],
            "summary": resilience.n1_summary(sweep),
        },
    )
