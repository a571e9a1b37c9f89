"""The benchmark's abandon arithmetic: abandon % = abandoned ÷ answered by a live person.

The rate definitions are :mod:`domain.abandon`'s (its :func:`~domain.abandon.rate`, the one the
dialer's windows and pacing use); this module only applies it to the simulation's counts and
slides the rolling hour over them. In the simulator call analysis does not err (with AMD a
machine is never reported as a person), so the calls classed live are people and the dialer's
and the true rate of the PureConnect vector coincide with this one.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.abandon import rate


def abandon_pct(abandoned: int, live: int) -> float:
    """Abandoned calls as a percentage of the calls answered by a live person."""
    return rate(abandoned, live)


def worst_window_pct(abandoned: Sequence[int], live: Sequence[int], width: int) -> float:
    """The highest abandon % over any ``width`` consecutive bins (a rolling window), bins with
    no live answer at all aside. Fewer bins than ``width``: the whole series."""
    width = min(width, len(live))
    if width <= 0:
        return 0.0
    a, n = sum(abandoned[:width]), sum(live[:width])
    worst = abandon_pct(a, n)
    for i in range(width, len(live)):
        a += abandoned[i] - abandoned[i - width]
        n += live[i] - live[i - width]
        worst = max(worst, abandon_pct(a, n))
    return worst
