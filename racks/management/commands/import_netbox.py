"""``manage.py import_netbox --url URL --token TOKEN [--site SLUG ...] [--dry-run]``: bring an estate in from NetBox.

All or nothing. A second run updates what came from NetBox (matched by NetBox id), keeps what is ours and
deletes nothing; ``--dry-run`` shows the differences and the check results without writing. The token may
also come from the NETBOX_TOKEN environment variable (so it stays out of the shell history).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from planner.netbox.client import FetchFailed
from planner.netbox.mapping import ROW_SOURCES, MappingError, RowConfig
from planner.netbox.service import ImportRefused, netbox_import
from planner.netbox.text import summary_lines


def read_figures(path: str) -> dict:
    """A YAML or JSON file: {device-type slug: {max_power_kw, weight_kg, u_height, typical_power_kw,
    psus_required}} for device types whose NetBox record lacks them."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CommandError(f"--figures {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CommandError(f"--figures {path}: give a mapping of device-type slug -> figures")
    return data


def parse_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        nb, sep, ours = item.partition("=")
        if not sep or not nb or not ours:
            raise CommandError(f"--model-map {item!r}: give NETBOX_SLUG=OUR_SLUG")
        out[nb] = ours
    return out


class Command(BaseCommand):
    help = "Import sites, racks, power and devices from NetBox (all or nothing; --dry-run writes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="NetBox base URL, e.g. https://netbox.example.com")
        parser.add_argument("--token", default=None, help="API token (default: $NETBOX_TOKEN)")
        parser.add_argument("--site", action="append", default=[], help="site slug (repeat; default: every site)")
        parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        parser.add_argument("--row-from", choices=ROW_SOURCES, default="location", help="where a rack's row comes from")
        parser.add_argument("--row-pattern", default=None, help="regex with (?P<row>...) for --row-from facility|name")
        parser.add_argument("--model-map", action="append", default=[], help="NETBOX_SLUG=OUR_SLUG (repeat)")
        parser.add_argument("--figures", default=None, help="YAML/JSON: figures for device types NetBox lacks")
        parser.add_argument("--skip-incomplete", action="store_true", help="skip devices whose type lacks figures")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **o):
        token = o["token"] or os.environ.get("NETBOX_TOKEN")
        try:
            rows = RowConfig(source=o["row_from"], pattern=o["row_pattern"])
            summary = netbox_import(
                client_or_url=o["url"],
                token=token,
                site_slugs=o["site"],
                dry_run=o["dry_run"],
                rows=rows,
                model_map=parse_map(o["model_map"]),
                figures=read_figures(o["figures"]) if o["figures"] else None,
                skip_incomplete=o["skip_incomplete"],
                progress=(lambda msg, frac: self.stderr.write(f"[{frac:4.0%}] {msg}")) if o["verbosity"] > 1 else None,
            )
        except ImportRefused as exc:
            raise CommandError("\n  ".join([exc.detail + "; nothing was written:", *exc.errors])) from None
        except (FetchFailed, MappingError) as exc:
            raise CommandError(f"{exc}; nothing was written") from None
        if o["json"]:
            self.stdout.write(json.dumps(summary.to_dict(), indent=2, default=str))
        else:
            self.stdout.write("\n".join(summary_lines(summary)))
