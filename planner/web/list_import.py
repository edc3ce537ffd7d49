"""CSV/XLSX import per resource (issue 16), with django-import-export: a dry-run preview naming every bad line,
then the import, all or nothing.

Columns are the API's writable fields (``planner.validation.WRITABLE_FIELDS``; foreign keys by id, a loop's
racks as ids separated by commas); a line whose natural key matches an existing object (a rack's row and name,
a site's slug...) updates it, any other line creates one. Every object is validated by its model
(``full_clean``: validators, ``clean()``, constraints), as the API and the forms do. A file with one bad line
writes nothing: the preview and the import run in one transaction that is rolled back unless every line is good.
"""

from __future__ import annotations

import base64
import binascii

import tablib
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from import_export import resources

from cooling.models import CoolingLoop
from planner.validation import WRITABLE_FIELDS
from planner.web.access import page, writer_required
from planner.web.lists import LISTS
from racks.models import NodeModel, Pdu, PowerSource, Rack, Room, Row, Site

MAX_IMPORT_BYTES = 2 * 1024 * 1024  # an upload larger than this is refused (configuration, not a spec)
MAX_IMPORT_LINES = 5000


def _resource(model, contract: str, key: tuple[str, ...]) -> type[resources.ModelResource]:
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": tuple(WRITABLE_FIELDS[contract]),
            "import_id_fields": key,
            "clean_model_instances": True,
            "skip_unchanged": False,
            "report_skipped": True,
        },
    )
    return type(f"{model.__name__}Resource", (resources.ModelResource,), {"Meta": meta})


RESOURCES = {
    "sites": _resource(Site, "site", ("slug",)),
    "rooms": _resource(Room, "room", ("site", "name")),
    "rows": _resource(Row, "row", ("room", "name")),
    "racks": _resource(Rack, "rack", ("row", "name")),
    "pdus": _resource(Pdu, "pdu", ("rack", "name")),
    "power-sources": _resource(PowerSource, "power_source", ("site", "name")),
    "cooling-loops": _resource(CoolingLoop, "cooling_loop", ("site", "name")),
    "node-models": _resource(NodeModel, "node_model", ("slug",)),
}


class ImportForm(forms.Form):
    document = forms.FileField(label="CSV or XLSX file", help_text="First line: the column names.")


class _Rollback(Exception):
    pass


def _dataset(content: bytes, name: str) -> tablib.Dataset:
    if name.lower().endswith(".xlsx"):
        return tablib.Dataset().load(content, format="xlsx")
    text = content.decode("utf-8-sig")
    return tablib.Dataset().load(text, format="csv")


def _line_errors(result) -> list[dict]:
    """Every bad line of a result: its number in the file (the header is line 1) and what is wrong."""
    lines = [{"line": 1, "errors": [str(e.error)]} for e in result.base_errors]  # e.g. a key column missing
    for number, errors in result.row_errors():
        lines.append({"line": number + 1, "errors": [str(e.error) for e in errors]})
    for invalid in result.invalid_rows:
        msgs = [f"{field}: {' '.join(str(m) for m in errs)}" for field, errs in invalid.error_dict.items()]
        lines.append({"line": invalid.number + 1, "errors": msgs or [str(invalid.error)]})
    return sorted(lines, key=lambda e: e["line"])


def run_import(kind_key: str, dataset: tablib.Dataset, *, dry_run: bool):
    """Import ``dataset`` into ``kind_key`` in one transaction; rolled back on a dry run or any bad line.
    Returns ``(result, line_errors)``."""
    resource = RESOURCES[kind_key]()
    try:
        with transaction.atomic():
            result = resource.import_data(dataset, dry_run=False, raise_errors=False, use_transactions=False)
            errors = _line_errors(result)
            if dry_run or errors or result.has_errors() or result.has_validation_errors():
                raise _Rollback
    except _Rollback:
        pass
    return result, errors


@writer_required
def object_import(request: HttpRequest, kind_key: str) -> HttpResponse:
    if kind_key not in RESOURCES:
        raise Http404("This list has no import.")
    kind = LISTS[kind_key]
    columns = list(RESOURCES[kind_key]().get_export_headers())
    context = {"kind": kind, "columns": columns, "form": ImportForm(), "preview": None, "errors": []}
    if request.method != "POST":
        return page(request, "planner/object_import.html", context)
    if "content" in request.POST:  # the confirmed import of a previewed file
        try:
            content = base64.b64decode(request.POST["content"], validate=True)
        except (binascii.Error, ValueError):
            context["errors"] = [{"line": 0, "errors": ["The previewed file was damaged; upload it again."]}]
            return page(request, "planner/object_import.html", context, status=400)
        name = request.POST.get("name", "import.csv")
        dry_run = False
    else:
        form = ImportForm(request.POST, request.FILES)
        context["form"] = form
        if not form.is_valid():
            return page(request, "planner/object_import.html", context, status=400)
        upload = form.cleaned_data["document"]
        if upload.size > MAX_IMPORT_BYTES:
            form.add_error("document", f"At most {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
            return page(request, "planner/object_import.html", context, status=400)
        content, name, dry_run = upload.read(), upload.name, True
    try:
        dataset = _dataset(content, name)
    except Exception as exc:  # tablib raises many kinds on a malformed file
        context["errors"] = [{"line": 0, "errors": [f"Cannot read the file: {type(exc).__name__}: {exc}"[:300]]}]
        return page(request, "planner/object_import.html", context, status=400)
    if len(dataset) > MAX_IMPORT_LINES:
        context["errors"] = [{"line": 0, "errors": [f"At most {MAX_IMPORT_LINES} lines per file."]}]
        return page(request, "planner/object_import.html", context, status=400)
    unknown = sorted(set(dataset.headers or ()) - set(columns))
    if unknown:
        context["errors"] = [{"line": 1, "errors": [f"Unknown column(s): {', '.join(map(str, unknown))}."]}]
        return page(request, "planner/object_import.html", context, status=400)
    result, errors = run_import(kind_key, dataset, dry_run=dry_run)
    totals = dict(result.totals)
    context.update(
        {
            "errors": errors,
            "preview": {
                "lines": len(dataset),
                "new": totals.get("new", 0),
                "update": totals.get("update", 0),
                "name": name,
                "content": base64.b64encode(content).decode() if not errors else "",
            },
        }
    )
    if errors:
        return page(request, "planner/object_import.html", context, status=400)
    if dry_run:
        return page(request, "planner/object_import.html", context)
    messages.success(
        request,
        f"Imported {len(dataset)} line(s) into {kind.label.lower()}: {totals.get('new', 0)} created, "
        f"{totals.get('update', 0)} updated.",
    )
    return redirect("object-list", kind_key)
