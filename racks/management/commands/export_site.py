"""``manage.py export_site SITE [-o FILE]``: a whole site as the JSON document of ``GET sites/{id}/export/``.

SITE is the site's id, slug or exact name. The document goes to stdout, or to FILE (written to a temporary file
beside it, then renamed: a reader never sees half a document, and a failed export leaves FILE as it was). A
one-line summary goes to stderr, so ``export_site 3 > site.json`` keeps the document clean.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from planner import transfer
from racks.models import Site

COUNTED = (
    ("rooms", "room", "rooms"),
    ("rows", "row", "rows"),
    ("racks", "rack", "racks"),
    ("pdus", "PDU", "PDUs"),
    ("power_sources", "power source", "power sources"),
    ("cooling_loops", "cooling loop", "cooling loops"),
    ("nodes", "node", "nodes"),
)


def describe_counts(counts: dict[str, int]) -> str:
    """``{"rooms": 2, ...}`` -> ``2 rooms, 1 row, ...`` in a fixed order (every kind, zeros included)."""
    return ", ".join(f"{counts.get(key, 0)} {one if counts.get(key, 0) == 1 else many}" for key, one, many in COUNTED)


def document_counts(doc: dict) -> dict[str, int]:
    """What an export document holds, by kind."""
    rooms = doc.get("rooms", [])
    rows = [row for room in rooms for row in room.get("rows", [])]
    racks = [rack for row in rows for rack in row.get("racks", [])]
    return {
        "rooms": len(rooms),
        "rows": len(rows),
        "racks": len(racks),
        "pdus": sum(len(rack.get("pdus", [])) for rack in racks),
        "power_sources": len(doc.get("power_sources", [])),
        "cooling_loops": len(doc.get("cooling_loops", [])),
        "nodes": sum(len(rack.get("nodes", [])) for rack in racks),
    }


def find_site(ref: str) -> Site:
    """The site whose id, slug or exact name is ``ref``; CommandError when none or several match."""
    ref = ref.strip()
    query = Q(slug=ref) | Q(name=ref)
    if ref.isdigit():
        query |= Q(pk=int(ref))
    matches = list(Site.objects.filter(query).order_by("pk")[:10])
    if not matches:
        raise CommandError(f'No site has the id, slug or name "{ref}". List them with the API: GET /api/v1/sites/.')
    if len(matches) > 1:
        which = "; ".join(f'id {s.pk}, slug "{s.slug}", name "{s.name}"' for s in matches)
        raise CommandError(f'"{ref}" matches {len(matches)} sites ({which}); give the id instead.')
    return matches[0]


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CommandError(f"Cannot write {path}: directory {directory} does not exist.")
    umask = os.umask(0)
    os.umask(umask)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = (
        "Export a site (by id, slug or exact name) as one JSON document: rooms, rows, racks, PDUs, power chain, "
        "cooling loops, nodes and their node models. The same document as GET /api/v1/sites/{id}/export/; "
        "import it with import_site."
    )

    def add_arguments(self, parser):
        parser.add_argument("site", help="The site's id, slug or exact name.")
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write the document to FILE (atomically) instead of stdout."
        )

    def handle(self, *args, **options):
        site = find_site(options["site"])
        doc = transfer.export_site(site)
        text = json.dumps(doc, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n"
        output = options.get("output")
        if output and output != "-":
            path = Path(output)
            try:
                write_atomically(path, text)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from None
            where = f" to {path}"
        else:
            self.stdout.write(text, ending="")
            where = ""
        self.stderr.write(
            f'Exported site "{site.name}" (id {site.pk}){where}: {describe_counts(document_counts(doc))}, '
            f"{len(doc['node_models'])} node model{'' if len(doc['node_models']) == 1 else 's'}."
        )
