"""SPACE: U positions in the rack.

Units are placed one after another, each at the lowest free block that fits its height; since every unit of
a placement has the same height this fills the free blocks bottom-up. A rack-scale system needs an empty rack
and occupies all of it; a rack holding one has no free space.
"""

from __future__ import annotations

from collections.abc import Iterable

from planner.engine.inputs import PlacedNode, Placement
from planner.engine.results import FAIL, OK, RuleResult, rule_result

CODE = "SPACE"


def node_label(node: PlacedNode) -> str:
    return node.name or node.model.slug


def used_intervals(nodes: Iterable[PlacedNode], u_height: int) -> list[tuple[int, int]]:
    """Merged, sorted (first U, last U) blocks in use, clipped to 1..u_height.

    A rack-scale system uses the whole rack whatever its own U height.
    """
    raw = []
    for n in nodes:
        m = n.model
        if m.rack_scale:
            return [(1, u_height)] if u_height >= 1 else []
        lo = n.u_position
        hi = lo + (m.u_height if m.u_height > 1 else 1) - 1
        if lo < 1:
            lo = 1
        if hi > u_height:
            hi = u_height
        if lo <= hi:
            raw.append((lo, hi))
    if len(raw) < 2:
        return raw
    raw.sort()
    merged = [raw[0]]
    for lo, hi in raw[1:]:
        plo, phi = merged[-1]
        if lo <= phi + 1:
            if hi > phi:
                merged[-1] = (plo, hi)
        else:
            merged.append((lo, hi))
    return merged


# The last rack's free blocks (nodes tuple, U height, blocks): headroom and planning check one rack many times.
# One tuple swapped whole, so concurrent threads never see a half-updated entry.
_LAST: list[tuple] = [((), 0, [])]


def rack_free_blocks(nodes: tuple[PlacedNode, ...], u_height: int) -> list[tuple[int, int]]:
    """Free (first U, length) blocks of a rack holding ``nodes`` (do not mutate the list returned)."""
    last_nodes, last_u, last_blocks = _LAST[0]
    if last_nodes is nodes and last_u == u_height:
        return last_blocks
    if not nodes:
        blocks = [(1, u_height)] if u_height >= 1 else []
    else:
        blocks = free_blocks(used_intervals(nodes, u_height), u_height)
    if type(nodes) is tuple:  # only immutable sequences can be recognised by identity
        _LAST[0] = (nodes, u_height, blocks)
    return blocks


def free_blocks(used: list[tuple[int, int]], u_height: int) -> list[tuple[int, int]]:
    """Free (first U, length) blocks, bottom-up."""
    out = []
    nxt = 1
    for lo, hi in used:
        if lo > nxt:
            out.append((nxt, lo - nxt))
        nxt = hi + 1
    if nxt <= u_height:
        out.append((nxt, u_height - nxt + 1))
    return out


def auto_capacity(blocks: list[tuple[int, int]], height: int) -> int:
    """How many units of ``height`` U fit in the free blocks."""
    if height < 1:
        return 0
    return sum(length // height for _, length in blocks)


def auto_positions(blocks: list[tuple[int, int]], height: int, quantity: int) -> tuple[int, ...] | None:
    """Lowest U of each of ``quantity`` units placed bottom-up in the free blocks; None when they do not fit."""
    out: list[int] = []
    for start, length in blocks:
        n = length // height
        if n <= 0:
            continue
        take = min(n, quantity - len(out))
        out.extend(range(start, start + take * height, height))
        if len(out) == quantity:
            return tuple(out)
    return None


def _blocks_text(blocks: list[tuple[int, int]]) -> str:
    if not blocks:
        return "none"
    return ", ".join(f"U{s}-{s + n - 1} ({n} U)" for s, n in blocks[:6]) + (" ..." if len(blocks) > 6 else "")


def _fail(msg: str, value: float | None = None, limit: float | None = None) -> tuple[RuleResult, tuple[int, ...]]:
    return rule_result(CODE, FAIL, msg, value, limit, "U"), ()


def check_space(
    u_height: int, nodes: tuple[PlacedNode, ...], placement: Placement | None
) -> tuple[RuleResult, tuple[int, ...]]:
    """SPACE for the kept nodes plus the placement (or the rack as it stands). Returns (result, positions)."""
    if placement is None:
        return _check_layout(u_height, nodes), ()
    model = placement.model
    q = placement.quantity
    slug = model.slug
    if q < 1:
        return _fail(f"quantity must be at least 1 (got {q})")
    if u_height < 1:
        return _fail(f"the rack has no usable U height ({u_height} U)", None, float(u_height))

    if model.rack_scale:
        if q != 1:
            return _fail(f"{slug} is a rack-scale system: one per rack (asked for {q})", float(q), 1.0)
        if nodes:
            return _fail(
                f"{slug} is a rack-scale system and needs an empty rack: {len(nodes)} node(s) already in it "
                f"({', '.join(node_label(n) for n in nodes[:5])}{' ...' if len(nodes) > 5 else ''})",
                float(sum(max(n.model.u_height, 1) for n in nodes)),
                0.0,
            )
        if placement.u_position not in (None, 1):
            return _fail(
                f"{slug} is a rack-scale system: it occupies the whole rack from U1, not U{placement.u_position}"
            )
        if model.u_height > u_height:
            return _fail(f"{slug} is {model.u_height} U, the rack {u_height} U", float(model.u_height), float(u_height))
        return rule_result(
            CODE,
            OK,
            f"{slug} is rack-scale and takes the whole empty {u_height} U rack",
            float(u_height),
            float(u_height),
            "U",
        ), (1,)

    h = model.u_height
    if h < 1:
        return _fail(f"{slug} has no U height recorded ({h} U)")
    blocks = rack_free_blocks(nodes, u_height)  # none when a rack-scale system holds the rack
    if not blocks:
        for n in nodes:
            if n.model.rack_scale:
                return _fail(f"the rack holds rack-scale system {node_label(n)}: no free space", float(h), 0.0)
    free_u = 0
    for _, length in blocks:
        free_u += length

    if placement.u_position is not None:
        u = placement.u_position
        top = u + h - 1
        if q != 1:
            return _fail(f"a U position places one unit; asked for {q} x {slug} at U{u}", float(q), 1.0)
        if u < 1 or top > u_height:
            return _fail(
                f"{slug} at U{u} needs U{u}-{top} ({h} U): outside the rack's U1-{u_height}",
                float(top),
                float(u_height),
            )
        for start, length in blocks:
            if start <= u and top <= start + length - 1:
                return rule_result(
                    CODE,
                    OK,
                    f"{slug} at U{u}-{top} ({h} U): free (block U{start}-{start + length - 1})",
                    float(h),
                    float(start + length - u),
                    "U",
                ), (u,)
        clash = [n for n in nodes if n.u_position <= top and n.u_position + max(n.model.u_height, 1) - 1 >= u]
        names = ", ".join(
            f"{node_label(n)} at U{n.u_position}-{n.u_position + max(n.model.u_height, 1) - 1}" for n in clash[:4]
        )
        room = 0
        for start, length in blocks:
            if start <= u <= start + length - 1:
                room = start + length - u
        return _fail(
            f"{slug} at U{u}-{top} needs {h} U, {room} U free from U{u}: overlaps {names}", float(h), float(room)
        )

    positions = auto_positions(blocks, h, q)
    need = q * h
    if positions is None:
        fit = auto_capacity(blocks, h)
        return _fail(
            f"{q} x {slug} need {q} x {h} U = {need} U in blocks of {h} U; {free_u} U free "
            f"({_blocks_text(blocks)}) holds {fit}",
            float(need),
            float(free_u),
        )
    where = "U" + ", U".join(map(str, positions[:8])) + (" ..." if len(positions) > 8 else "")
    return rule_result(
        CODE,
        OK,
        f"{q} x {slug} ({q} x {h} U = {need} U) at {where}; {free_u} U free before",
        float(need),
        float(free_u),
        "U",
    ), positions


def _check_layout(u_height: int, nodes: tuple[PlacedNode, ...]) -> RuleResult:
    """The rack as it stands: every node inside the rack, none overlapping, a rack-scale system alone."""
    problems = []
    scale = [n for n in nodes if n.model.rack_scale]
    if scale and len(nodes) > 1:
        problems.append(f"rack-scale system {node_label(scale[0])} shares the rack with {len(nodes) - 1} node(s)")
    spans = []
    for n in nodes:
        if n.model.rack_scale:
            continue
        lo, hi = n.u_position, n.u_position + max(n.model.u_height, 1) - 1
        if lo < 1 or hi > u_height:
            problems.append(f"{node_label(n)} at U{lo}-{hi} is outside U1-{u_height}")
        spans.append((lo, hi, n))
    spans.sort(key=lambda s: (s[0], s[1]))
    reach = None
    for lo, hi, n in spans:
        if reach is not None and lo <= reach[0]:
            problems.append(f"{node_label(n)} at U{lo}-{hi} overlaps {node_label(reach[1])}")
        if reach is None or hi > reach[0]:
            reach = (hi, n)
    blocks = [] if scale else free_blocks(used_intervals(nodes, u_height), u_height)
    used = u_height - sum(n for _, n in blocks) if u_height > 0 else 0
    if problems:
        return RuleResult(CODE, FAIL, "; ".join(problems[:6]), float(used), float(u_height), "U")
    largest = max((n for _, n in blocks), default=0)
    return RuleResult(
        CODE,
        OK,
        f"{len(nodes)} node(s) use {used} U of {u_height} U; {u_height - used} U free (largest block {largest} U)",
        float(used),
        float(u_height),
        "U",
    )


def space_summary(u_height: int, nodes: tuple[PlacedNode, ...]) -> tuple[int, int, list[tuple[int, int]]]:
    """(free U, largest free block U, free blocks) of the rack as it stands."""
    if u_height < 1:
        return 0, 0, []
    blocks = rack_free_blocks(nodes, u_height)
    return sum(n for _, n in blocks), max((n for _, n in blocks), default=0), blocks
