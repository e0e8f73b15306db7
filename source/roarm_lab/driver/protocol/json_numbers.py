"""Numbers as they come out of ``json.loads`` or a caller: int or float, but also bool, NaN or ints too large for
a float. One check for all of them."""

from __future__ import annotations

import math
from typing import Any


def as_finite_float(value: Any) -> float | None:
    """``value`` as a finite float, or None for bools, non-numbers, NaN/inf and ints beyond float range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        f = float(value)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None
