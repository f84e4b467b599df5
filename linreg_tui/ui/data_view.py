"""How the Data panel names what it draws: a feature by the weight that multiplies it (x₂ is w2's
feature, the book's `features[:, 1]`), a label by its row counted from 1 (the book's y₅)."""

from __future__ import annotations

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(number: int) -> str:
    """12 → "₁₂": x₂ is the feature that w2 multiplies, y₅ the fifth label (the book's 1-based names)."""
    return str(number).translate(SUBSCRIPTS)
