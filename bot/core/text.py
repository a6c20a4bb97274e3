"""Text helpers shared by the pure logic and the renderers."""

from __future__ import annotations


def one_line(text: str) -> str:
    """Whitespace runs (newlines too) as single spaces, none at the ends."""
    return " ".join(text.split())
