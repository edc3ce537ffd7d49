"""A summary as plain text lines, for the commands (the page renders the same Summary with a template)."""

from __future__ import annotations


def _fmt(x) -> str:
    return f"{x:,.1f}" if isinstance(x, (int, float)) else "n/a"


def summary_lines(summary) -> list[str]:
    s = summary
    out = [f"{'DRY RUN: nothing was written. ' if s.dry_run else ''}NetBox holds, for the imported sites:"]
    out.append("  " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s.counts.items()))
    verb = "would create" if s.dry_run else "created"
    out.append(f"{verb}: " + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s.created.items()) or "nothing"))
    out.append(
        f"{'would update' if s.dry_run else 'updated'}: "
        + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in s.updated.items()) or "nothing")
    )
    for c in s.changes:
        if c["action"] == "update":
            fields = "; ".join(f"{f} {old!r} -> {new!r}" for f, (old, new) in c["fields"].items())
            out.append(f"  {c['kind']} {c['name']}: {fields}")
    for m in s.models:
        line = f"model {m['netbox_slug']} -> {m['slug']}: {m['action']}"
        if m.get("missing"):
            line += f" (lacks {', '.join(m['missing'])})"
        out.append(line)
        for f, (ours, theirs) in (m.get("differences") or {}).items():
            out.append(f"  {f}: ours {ours!r}, NetBox {theirs!r}")
    for k in s.kept:
        out.append(f"kept (gone from NetBox, not deleted): {k['kind']} {k['name']}")
    for k in s.skipped:
        out.append(f"skipped: {k['object']}: {k['reason']}")
    for w in s.warnings:
        out.append(f"warning: {w}")
    out.append(f"racks failing a rule today: {len(s.failing_racks)}")
    for r in s.failing_racks:
        out.append(f"  {r['site']} {r['rack']}: {', '.join(c['code'] for c in r['checks'])}")
    for site in s.sites:
        h = site.get("headroom") or {}
        p, a = h.get("power", {}), h.get("cooling_air", {})
        out.append(
            f"site {site['slug']}: power {_fmt(p.get('load_kw'))} of {_fmt(p.get('capacity_kw'))} kW, headroom "
            f"{_fmt(p.get('headroom_kw'))} kW; air cooling headroom {_fmt(a.get('headroom_kw'))} kW; binding "
            f"{h.get('binding')}; {site.get('missing', 0)} checklist item(s) to enter"
        )
    return out
