"""Node models from netbox-community/devicetype-library YAML: a file or a folder, command and page.

Each file's figures are mapped by ``mapping.model_figures`` with the file as their source. A file that
lacks what the check needs is refused, naming the field; a model our catalogue has already (same slug,
NetBox slug, or ``DEFAULT_MODEL_MAP``) is never overwritten: the differences are shown. Models a previous
library import created are updated. Real files have quirks; each gets a message, none a crash.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from django.db import transaction

from planner.netbox.mapping import DEFAULT_MODEL_MAP, SOURCE_PREFIX, ModelFigures, model_figures
from racks.models import NodeModel

KNOWN_KEYS = {
    "manufacturer", "model", "slug", "part_number", "u_height", "is_full_depth", "airflow", "weight",
    "weight_unit", "comments", "description", "subdevice_role", "console-ports", "console-server-ports",
    "power-ports", "power-outlets", "interfaces", "front-ports", "rear-ports", "module-bays", "device-bays",
    "inventory-items", "exclude_from_utilization",
}  # fmt: skip
COMPONENTS = ("console-ports", "power-ports", "power-outlets", "interfaces", "module-bays")
MAX_BYTES = 1_000_000


@dataclass
class TypeResult:
    file: str
    slug: str = ""
    action: str = "refused"  # created | updated | unchanged | ours kept | refused
    missing: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    differences: dict = field(default_factory=dict)  # {field: [ours, file]}

    def to_dict(self) -> dict:
        return asdict(self)


def read_path(path: str | Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of a YAML file, or of every ``*.yaml``/``*.yml`` under a folder, sorted by path."""
    p = Path(path)
    if p.is_dir():
        files = sorted(q for q in p.rglob("*") if q.suffix.lower() in (".yaml", ".yml") and q.is_file())
        return [(str(q.relative_to(p)), q.read_bytes()) for q in files]
    if p.is_file():
        return [(p.name, p.read_bytes())]
    raise FileNotFoundError(f"{path}: no such file or folder")


def _quirks(doc: dict, fig: ModelFigures) -> list[str]:
    notes = []
    unused = sorted(set(doc) - KNOWN_KEYS)
    if unused:
        notes.append(f"keys not used (not NetBox fields or not needed here): {', '.join(map(str, unused))}")
    slug = doc.get("slug")
    if isinstance(slug, str) and slug != slug.lower():
        notes.append(f"slug {slug!r} has upper case: ours is {fig.slug!r}")
    for key in COMPONENTS:
        items = doc.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            notes.append(f"{key} is not a list: ignored")
            continue
        names = [i.get("name") for i in items if isinstance(i, dict)]
        dupes = sorted({str(n) for n, c in Counter(map(str, names)).items() if c > 1})
        if dupes:
            notes.append(f"{key}: duplicate names {', '.join(dupes)} (NetBox keeps the first)")
        numbers = [n for n in names if not isinstance(n, str)]
        if numbers:
            notes.append(f"{key}: {len(numbers)} name(s) are not text (e.g. {numbers[0]!r}); read as text")
    outlets = [o for o in doc.get("power-outlets") or [] if isinstance(o, dict)]
    if outlets and not any(o.get("feed_leg") for o in outlets):
        notes.append("power-outlets have no feed_leg: the phase of each outlet is unknown")
    comment = str(doc.get("comments") or "")
    for count, kind in re.findall(r"\((\d+)\)\s*(C1[39])", comment):
        have = sum(1 for o in outlets if str(o.get("type", "")).endswith(kind.lower()))
        if outlets and have != int(count):
            notes.append(f"the comment says ({count}) {kind}, the file defines {have}")
    claim = re.search(r"(\d+(?:\.\d+)?)\s*kW", comment, re.IGNORECASE)
    if (
        claim
        and fig.max_power_kw is not None
        and abs(float(claim.group(1)) - fig.max_power_kw) > 0.05 * fig.max_power_kw
    ):
        notes.append(
            f"the comment says {claim.group(0)}, maximum_draw gives {fig.max_power_kw:g} kW: check the file "
            "(the planner budgets what the file's maximum_draw says, or our catalogue's figure if it has the model)"
        )
    return notes


def parse(name: str, raw: bytes) -> tuple[ModelFigures | None, TypeResult]:
    """One file -> its figures (None when it cannot be read) and a result carrying every message."""
    result = TypeResult(file=name)
    if len(raw) > MAX_BYTES:
        result.messages.append(f"larger than {MAX_BYTES:,} bytes: not read")
        return None, result
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.messages.append(f"not UTF-8 text (byte {exc.start}): not read")
        return None, result
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        result.messages.append(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")
        return None, result
    if not isinstance(doc, dict):
        result.messages.append("not a device type (the file is not a YAML mapping)")
        return None, result
    ports = doc.get("power-ports") if isinstance(doc.get("power-ports"), list) else []
    ports = [p if isinstance(p, dict) else {} for p in ports]
    fig = model_figures(doc, ports, origin=f"library file {name}")
    result.slug = fig.slug
    result.missing = list(fig.missing)
    result.messages.extend(fig.notes)
    result.messages.extend(_quirks(doc, fig))
    return fig, result


class _DryRun(Exception):
    pass


def device_types_import(*, files: list[tuple[str, bytes]], dry_run: bool = False) -> list[TypeResult]:
    """Import node models from library files, in one transaction (a dry run rolls it back). Never raises
    for a bad file: each result says what happened to its file and why."""
    results: list[TypeResult] = []
    try:
        with transaction.atomic():
            for name, raw in files:
                fig, result = parse(name, raw)
                results.append(result)
                if fig is None:
                    continue
                existing = (
                    NodeModel.objects.select_for_update().filter(netbox_slug=fig.netbox_slug).first()
                    or NodeModel.objects.select_for_update()
                    .filter(slug__in=[fig.slug, DEFAULT_MODEL_MAP.get(fig.netbox_slug, "")])
                    .order_by("slug")
                    .first()
                )
                theirs = {k: v for k, v in fig.model_fields().items() if v is not None and k != "source"}
                if existing is not None and not existing.source.startswith(SOURCE_PREFIX):
                    result.slug = existing.slug
                    result.action = "ours kept"
                    result.differences = _differences(existing, theirs)
                    continue
                if fig.missing:
                    result.messages.insert(0, f"refused: lacks {', '.join(fig.missing)} (needed by the check)")
                    continue
                if existing is None:
                    NodeModel.objects.create(slug=fig.slug, netbox_slug=fig.netbox_slug, **fig.model_fields())
                    result.action = "created"
                    continue
                result.differences = _differences(existing, fig.model_fields())
                if result.differences:
                    for key, value in fig.model_fields().items():
                        setattr(existing, key, value)
                    existing.netbox_slug = fig.netbox_slug
                    existing.save()
                    result.action = "updated"
                else:
                    result.action = "unchanged"
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return results


def _differences(model: NodeModel, wanted: dict) -> dict:
    out = {}
    for key, value in wanted.items():
        ours = getattr(model, key)
        same = ours == value or (
            isinstance(ours, (int, float)) and isinstance(value, (int, float)) and abs(ours - value) <= 1e-9
        )
        if not same:
            out[key] = [ours, value]
    return out
