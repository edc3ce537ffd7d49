"""The reference entries the catalogue and the advisor cite as ``[Sxx]`` (``planner/data/sources.md``, a copy of
the engineering reference's §10 "Sources" and "Sources (new)"), and citation text turned into links to them.

An entry starts a line ``* [S2] ...`` and runs over its indented lines; ``[S2b]`` at the start of an indented
line, or after ``; `` inside an entry, starts a sub-entry of its own. Each entry keeps its words verbatim, its
title (the first ``*italic*`` span, else the words before the first URL) and its URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

DATA = Path(__file__).resolve().parent / "data" / "sources.md"
TAG = re.compile(r"\[(S\d+[a-z]?)\]")
_START = re.compile(r"(?:^\* |^\s+|;\s+)\[(S\d+[a-z]?)\]\s*", re.M)
_URL = re.compile(r"https?://[^\s<>)]+")


@dataclass(frozen=True, slots=True)
class Source:
    tag: str
    section: str  # "Sources" or "Sources (new)"
    text: str
    title: str
    urls: tuple[str, ...]


def _title(text: str) -> str:
    italic = re.search(r"\*([^*]+)\*", text)
    if italic:
        return italic.group(1).strip()
    before = _URL.split(text, maxsplit=1)[0]
    return before.strip(" ,;:—-=") or text[:80]


def parse(markdown: str) -> dict[str, Source]:
    """Every entry of the markdown's source lists by tag, in the order they appear (first definition wins)."""
    out: dict[str, Source] = {}
    section = ""
    entries: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = "Sources (new)" if "new" in line else "Sources"
        elif line.startswith("* [S"):
            entries.append((section, [line]))
        elif line.startswith("  ") and entries:
            entries[-1][1].append(line)
    for section, lines in entries:
        block = "\n".join(lines)
        starts = list(_START.finditer(block))
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(block)
            text = " ".join(block[m.end() : end].split()).rstrip(" ;")
            urls = tuple(u.rstrip(".,;") for u in _URL.findall(text))
            out.setdefault(m.group(1), Source(m.group(1), section, text, _title(text), urls))
    return out


@cache
def sources() -> dict[str, Source]:
    return parse(DATA.read_text(encoding="utf-8"))


def cite(text: str, url: str = "/sources/") -> SafeString:
    """``text`` escaped, each known ``[Sxx]`` a link to its entry on the Sources page (an unknown tag stays text)."""
    known = sources()

    def link(m: re.Match) -> str:
        tag = m.group(1)
        if tag not in known:
            return m.group(0)
        return f'<a href="{url}#{tag}" title="{escape(known[tag].title)}">[{tag}]</a>'

    return mark_safe(TAG.sub(link, str(escape(text))))  # escaped above; only our own links added
