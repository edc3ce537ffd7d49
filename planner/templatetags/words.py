"""Words for people in templates: ``{{ code|rule }}``, ``{{ codes|rules }}``, ``{{ value|choice:"containment" }}``,
``{{ text|cite }}`` and ``{{ text|for_people }}``. The tables live in ``planner.web.labels`` and
``planner.sources``; no template keeps its own copy."""

from __future__ import annotations

from django import template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from planner import sources
from planner.web import labels

register = template.Library()


@register.filter
def rule(code: str) -> SafeString:
    """A rule code with its name, and its one-line explanation on hover and for screen readers."""
    name, text = labels.RULES.get(code, (code, ""))
    if not text:
        return format_html("<code>{}</code>", code)
    return format_html('<span class="rule" title="{}">{} <code>{}</code></span>', text, name, code)


@register.filter
def rules(codes) -> SafeString:
    if not codes:
        return mark_safe("—")
    return format_html_join(", ", "{}", ((rule(c),) for c in codes))


@register.filter
def choice(value, kind: str) -> str:
    return labels.choice_label(value, kind)


@register.filter
def cite(text) -> SafeString:
    return sources.cite("" if text is None else str(text))


@register.filter
def for_people(text) -> SafeString:
    """Engine notes in words (``labels.for_people``), their citations linked to the Sources page."""
    return sources.cite(labels.for_people("" if text is None else str(text)))


@register.filter
def rule_text(code: str) -> str:
    return escape(labels.rule_text(code))
