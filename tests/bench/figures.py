"""What a benchmark group reports, and the options every group takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    rounds: int = 3
    events: int | None = None


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str

    def line(self) -> str:
        value = f"{self.value:.0f}" if abs(self.value) >= 100 else f"{self.value:.3f}"
        return f"{self.name} {value} {self.unit}"
