"""Quoting a user's value in a message: a short excerpt, never the whole value.

One helper for every layer (CLI flags, stack config, traffic profiles, mechanics overrides), so a
4,000-character instance type or a 1,000-digit number is named by its start and its length and
the message's "expected ..." part stays readable. Pure: no dependencies.
"""

from __future__ import annotations

LIMIT = 40


def excerpt(value: object, limit: int = LIMIT) -> str:
    """`repr(value)` when short; else its first `limit` characters, '…' and the length."""
    text = repr(value)
    if len(text) <= limit + 2:
        return text
    if isinstance(value, (str, bytes)):
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return f"{text[:limit]}… ({len(text):,} characters)"
