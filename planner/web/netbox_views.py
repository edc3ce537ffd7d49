"""Pages of the NetBox import: run an import (dry run first), the per-site checklist, device-type YAML."""

from __future__ import annotations

import re

import yaml
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from planner import import_jobs
from planner.netbox.checklist import site_checklist
from planner.netbox.client import FetchFailed
from planner.netbox.devicetypes import device_types_import
from planner.netbox.mapping import ROW_SOURCES, MappingError, RowConfig
from planner.netbox.service import ImportRefused, netbox_import
from planner.web.access import page, reader_required, writer_required
from racks.models import Site

MAX_UPLOAD_FILES = 200


class NetboxImportForm(forms.Form):
    url = forms.URLField(label="NetBox URL", max_length=300, help_text="e.g. https://netbox.example.com")
    token = forms.CharField(label="API token", max_length=200, widget=forms.PasswordInput(render_value=True))
    sites = forms.CharField(
        label="Site slugs", required=False, max_length=1000, help_text="Space-separated; empty = all."
    )
    row_from = forms.ChoiceField(label="Rows from", choices=[(s, s) for s in ROW_SOURCES], initial="location")
    row_pattern = forms.CharField(
        label="Row pattern", required=False, max_length=300, help_text="Regex with (?P<row>…)."
    )
    figures = forms.CharField(
        label="Figures for device types NetBox lacks",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="YAML: slug: {max_power_kw: 1.5, weight_kg: 20}",
    )
    skip_incomplete = forms.BooleanField(label="Skip devices whose type lacks figures", required=False)
    dry_run = forms.BooleanField(label="Dry run (write nothing)", required=False, initial=True)
    background = forms.BooleanField(
        label="Run as a background job",
        required=False,
        help_text="For large estates: the job page shows the progress. The URL must be listed in NETBOX_URLS.",
    )

    def clean_figures(self):
        text = self.cleaned_data["figures"].strip()
        if not text:
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"Not YAML: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise forms.ValidationError("Give a mapping of device-type slug to figures.")
        return data

    def clean(self):
        data = super().clean()
        allowed = [u.rstrip("/") for u in getattr(settings, "NETBOX_URLS", [])]
        if data.get("background") and (data.get("url") or "").rstrip("/") not in allowed:
            # A job runs without the person who asked; it may read only the NetBox URLs the planner lists.
            self.add_error("url", "A background job may read only the NetBox URLs listed in NETBOX_URLS.")
        try:
            data["rows"] = RowConfig(source=data.get("row_from") or "location", pattern=data.get("row_pattern") or None)
        except MappingError as exc:
            self.add_error("row_pattern", exc.message)
        return data


@writer_required
def netbox_import_page(request: HttpRequest) -> HttpResponse:
    form = NetboxImportForm(request.POST or None)
    summary = error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            if d["background"]:
                job = import_jobs.netbox_job_create(
                    url=d["url"],
                    token=d["token"],
                    user=request.user,
                    site_slugs=[s for s in re.split(r"[\s,]+", d["sites"]) if s],
                    dry_run=d["dry_run"],
                    row_from=d["rows"].source,
                    row_pattern=d["rows"].pattern,
                    figures=d["figures"],
                    skip_incomplete=d["skip_incomplete"],
                )
                return redirect("import-job-page", pk=job.pk)
            try:
                summary = netbox_import(
                    client_or_url=d["url"],
                    token=d["token"],
                    site_slugs=[s for s in re.split(r"[\s,]+", d["sites"]) if s],
                    dry_run=d["dry_run"],
                    rows=d["rows"],
                    figures=d["figures"],
                    skip_incomplete=d["skip_incomplete"],
                )
            except ImportRefused as exc:
                error, status = {"detail": exc.detail, "errors": exc.errors}, 400
            except (FetchFailed, MappingError) as exc:
                error, status = {"detail": str(exc), "errors": []}, 400
        else:
            status = 400
    return page(
        request, "planner/netbox_import.html", {"form": form, "error": error, **_summary(summary)}, status=status
    )


def _summary(summary) -> dict:
    if summary is None:
        return {"summary": None}
    keys = [*summary.counts, *(k for k in summary.created if k not in summary.counts)]
    counts = [
        {
            "label": key.replace("_", " ").capitalize(),
            "netbox": summary.counts.get(key, "—"),
            "created": summary.created.get(key, 0),
            "updated": summary.updated.get(key, 0),
        }
        for key in keys
    ]
    updates = [c for c in summary.changes if c["action"] == "update"]
    return {"summary": summary, "counts": counts, "updates": updates}


@reader_required
def site_checklist_page(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(Site, pk=pk)
    items = site_checklist(site)
    return page(
        request,
        "planner/netbox_checklist.html",
        {
            "site": site,
            "missing": [i for i in items if i["kind"] == "missing"],
            "assumed": [i for i in items if i["kind"] == "assumed"],
        },
    )


@writer_required
def device_types_page(request: HttpRequest) -> HttpResponse:
    results = None
    error = None
    dry_run = True
    status = 200
    if request.method == "POST":
        dry_run = request.POST.get("dry_run") == "on"
        uploads = request.FILES.getlist("files")
        files = [(u.name, u.read()) for u in uploads[:MAX_UPLOAD_FILES]]
        text = request.POST.get("text", "").strip()
        if text:
            files.append(("pasted text", text.encode()))
        if not files:
            error, status = "Choose at least one YAML file, or paste one.", 400
        else:
            results = device_types_import(files=files, dry_run=dry_run)
            if any(r.action == "refused" for r in results):
                status = 400
    return page(
        request,
        "planner/device_types_import.html",
        {"results": results, "error": error, "dry_run": dry_run},
        status=status,
    )
