"""The site import page: upload an export document, then watch the import job run and see its result.

The upload is checked here only for what needs no import (a file, JSON, an object, not too large); the job
checks the rest and reports it. The job page renders the job's state as it is when the page is served and
``static/js/import_job.js`` then polls the job's JSON (the API's job URL, with the browser session) until it
finishes, so the page and the API cannot tell different stories.
"""

from __future__ import annotations

import json

from django import forms
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from planner import import_jobs
from planner.models import ImportJob
from planner.web.access import page, writer_required


class SiteImportForm(forms.Form):
    document = forms.FileField(
        label="Site export document (JSON)",
        help_text="A file written by Export (GET /api/v1/sites/{id}/export/) or manage.py export_site.",
    )
    name = forms.CharField(max_length=100, required=False, help_text="Name of the new site (default: the document's).")
    slug = forms.SlugField(max_length=100, required=False, help_text="Slug of the new site (default: the document's).")

    def clean_document(self):
        upload = self.cleaned_data["document"]
        limit = import_jobs.MAX_DOCUMENT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; at most {limit:,} can be imported.")
        try:
            doc = json.loads(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"The file is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        except RecursionError:
            raise forms.ValidationError("The file nests too deeply to be a site export document.") from None
        if not isinstance(doc, dict):
            raise forms.ValidationError("The file is not a site export document (expected a JSON object).")
        return doc


@writer_required
def site_import(request):
    form = SiteImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = import_jobs.import_job_create(
            document=data["document"], user=request.user, name=data["name"] or None, slug=data["slug"] or None
        )
        return redirect("import-job-page", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    jobs = list(import_jobs.import_jobs_for(request.user).order_by("-created_at", "-id")[:10])
    return page(request, "planner/site_import.html", {"form": form, "jobs": jobs}, status=status)


@writer_required
def import_job_page(request, pk: int):
    job = import_jobs.import_jobs_for(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import job.")
    progress = import_jobs.job_progress(job)
    total = progress["total"]
    context = {
        "job": job,
        "progress": progress,
        "percent": round(100 * progress["done"] / total, 1) if total else 0.0,
        "finished": job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED),
        "job_json_url": reverse("importjob-detail", kwargs={"pk": job.pk}),
        "errors_text": json.dumps(job.errors.get("errors"), indent=2, ensure_ascii=False) if job.errors else "",
    }
    return page(request, "planner/import_job.html", context)
