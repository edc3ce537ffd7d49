"""``manage.py import_device_types PATH [--dry-run]``: node models from device-type library YAML.

PATH is a file or a folder (every ``*.yaml``/``*.yml`` under it). One transaction; ``--dry-run`` writes
nothing. A file that lacks what the check needs is refused, naming the field; our own catalogue models are
never overwritten (the differences are printed). Exits non-zero when any file was refused.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from planner.netbox.devicetypes import device_types_import, read_path


def result_lines(results) -> list[str]:
    out = []
    for r in results:
        out.append(f"{r.file}: {r.action}" + (f" ({r.slug})" if r.slug else ""))
        out.extend(f"  {m}" for m in r.messages)
        out.extend(f"  {k}: ours {ours!r}, file {theirs!r}" for k, (ours, theirs) in r.differences.items())
    return out


class Command(BaseCommand):
    help = "Import node models from NetBox device-type library YAML (a file or a folder)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args, **o):
        try:
            files = read_path(o["path"])
        except OSError as exc:
            raise CommandError(str(exc)) from None
        if not files:
            raise CommandError(f"{o['path']}: no .yaml or .yml file")
        results = device_types_import(files=files, dry_run=o["dry_run"])
        if o["json"]:
            self.stdout.write(json.dumps([r.to_dict() for r in results], indent=2, default=str))
        else:
            if o["dry_run"]:
                self.stdout.write("DRY RUN: nothing was written.")
            self.stdout.write("\n".join(result_lines(results)))
        refused = [r.file for r in results if r.action == "refused"]
        if refused:
            raise CommandError(f"{len(refused)} file(s) refused: {', '.join(refused)}")
