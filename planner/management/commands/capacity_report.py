"""``manage.py capacity_report [--site SLUG] [--day YYYY-MM-DD]``: the nightly reports, now, in this process."""

from __future__ import annotations

import argparse
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from planner import reports
from racks.models import Site


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Build the capacity report of every site (or one) for a day, synchronously, and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("--site", help="Slug of the one site to report on (default: every site).")
        parser.add_argument("--day", type=_day, help="Report day, YYYY-MM-DD (default: today).")
        parser.add_argument("--no-email", action="store_true", help="Do not mail the reports.")

    def handle(self, *args, site=None, day=None, no_email=False, **options):
        day = reports.as_day(day)
        site_ids = None
        if site:
            site_id = Site.objects.filter(slug=site).values_list("id", flat=True).first()
            if site_id is None:
                raise CommandError(f"No site with slug {site!r}.")
            site_ids = [site_id]
        outcomes = reports.report_build_many(day, site_ids=site_ids, notify=not no_email)
        if not outcomes:
            self.stdout.write("No sites to report on.")
            return
        for o in outcomes:
            if o.report is None:
                self.stderr.write(self.style.ERROR(f"{o.slug}: FAILED {o.error}"))
                continue
            s = o.report.summary or {}
            earliest = s.get("earliest_run_out") or {}
            run_out = f"{earliest['dimension']} runs out {earliest['day']}" if earliest else "no run-out forecast"
            self.stdout.write(
                f"{o.slug} {day.isoformat()}: report {o.report.pk}, {o.report.rack_count} racks, "
                f"{o.report.node_count} nodes, IT load {o.report.it_load_kw:,.1f} kW, "
                f"{s.get('near_limit_count', 0)} rack(s) near a limit, {run_out}"
            )
        failed = [o for o in outcomes if o.report is None]
        summary = f"{len(outcomes) - len(failed)} report(s) built, {len(failed)} failed for {day.isoformat()}."
        if failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
