"""``manage.py import_site FILE [--name NEW_NAME]``: create a site from an ``export_site`` document.

FILE ``-`` reads stdin. All or nothing, like ``POST /api/v1/sites/import/`` (the same validation and the same
messages): an invalid document exits non-zero and writes nothing. A document whose site name or slug exists
here already is refused; ``--name`` imports it under another name (and, unless ``--slug`` is given, the slug
made from that name).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from planner import transfer
from racks.management.commands.export_site import describe_counts
from racks.models import Site


def _error_lines(errors, prefix: str = "") -> list[str]:
    """The API's ``errors`` (field -> messages, nested for nested records) as indented ``field: message`` lines."""
    if isinstance(errors, dict):
        keys = ("code", "status", "message")
        if errors and set(errors) >= {"code", "message"}:  # a failing placement check
            return [f"{prefix}{' '.join(str(errors[k]) for k in keys if errors.get(k) is not None)}"]
        lines = []
        for key, value in errors.items():
            label = key if key != "non_field_errors" else "error"
            sub = _error_lines(value, "")
            if len(sub) == 1:
                lines.append(f"{prefix}{label}: {sub[0].strip()}")
            else:
                lines.append(f"{prefix}{label}:")
                lines.extend(_error_lines(value, prefix + "  "))
        return lines
    if isinstance(errors, list):
        lines = []
        for item in errors:
            lines.extend(_error_lines(item, prefix))
        return lines
    return [f"{prefix}{errors}"]


def describe_failure(exc: transfer.ImportFailed) -> str:
    """ImportFailed -> the API's detail, then the record's path and each error on its own line."""
    lines = [exc.detail, f"  at {exc.path}:"]
    lines.extend(_error_lines(exc.errors, "    "))
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Create a site from a JSON document written by export_site (or GET /api/v1/sites/{id}/export/), all or "
        'nothing. FILE "-" reads stdin. Every record is validated like the API and every node placed through '
        "the placement rules."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help='The export document ("-" = stdin).')
        parser.add_argument("--name", help="Name of the new site (default: the document's).")
        parser.add_argument("--slug", help="Slug of the new site (default: the document's, or made from --name).")
        parser.add_argument(
            "--as-is",
            action="store_true",
            help="Place the nodes as they are in the document, without the placement rules.",
        )

    def _read(self, name: str, stdin) -> str:
        if name == "-":
            return (stdin or sys.stdin).read()
        try:
            with open(name, encoding="utf-8") as source:
                return source.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror or exc}.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{name} is not UTF-8 text: {exc}.") from None

    def handle(self, *args, **options):
        name = options["file"]
        label = "stdin" if name == "-" else name
        text = self._read(name, options.get("stdin"))
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); nothing was imported."
            ) from None
        if not isinstance(doc, dict):
            raise CommandError(f"{label} is not a site export document (expected a JSON object); nothing was imported.")

        new_name, new_slug = options.get("name"), options.get("slug")
        if new_name is not None and new_slug is None:
            new_slug = slugify(new_name)[:100]
            if not new_slug:
                raise CommandError(f'Cannot make a slug from the name "{new_name}"; give one with --slug.')
        site_doc = doc.get("site") if isinstance(doc.get("site"), dict) else {}
        wanted_name = new_name if new_name is not None else site_doc.get("name")
        wanted_slug = new_slug if new_slug is not None else site_doc.get("slug")
        for field, value in (("name", wanted_name), ("slug", wanted_slug)):
            if isinstance(value, str) and value:
                clash = Site.objects.filter(**{field: value}).first()
                if clash is not None:
                    hint = (
                        "import it under another name with --name NEW_NAME"
                        if field == "name"
                        else "give the new site another slug with --slug NEW_SLUG (or another name with --name)"
                    )
                    raise CommandError(
                        f'A site with the {field} "{value}" exists already (id {clash.pk}); {hint}. '
                        "Nothing was imported."
                    )

        try:
            result = transfer.import_site(doc, name=new_name, slug=new_slug, as_is=options["as_is"])
        except transfer.ImportFailed as exc:
            message = describe_failure(exc)
            if exc.path == "site" and any(key in exc.errors for key in ("name", "slug")):
                message += "\nImport under another name with --name NEW_NAME (and --slug NEW_SLUG)."
            raise CommandError(message) from None
        site = result.site
        self.stdout.write(
            self.style.SUCCESS(
                f'Imported site "{site.name}" as id {site.pk} (slug {site.slug}): {describe_counts(result.counts)}.'
            )
        )
        if result.created_models:
            self.stdout.write(f"New node models: {', '.join(result.created_models)}.")
