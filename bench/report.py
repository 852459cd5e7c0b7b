"""Figures as rows: the table printed at the end and the JSON result file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .stats import Spread, ratios


@dataclass
class Row:
    """One figure: ours, the baseline measured in the same run, and their ratio."""

    section: str
    label: str
    unit: str
    ours: Spread
    baseline: Spread | None = None
    baseline_label: str = ""
    ratio: Spread | None = None
    # A target on the ratio ("ratio") or on our value ("value"), as (operator, bound).
    target: tuple[str, str, float] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def paired(
        cls,
        section: str,
        label: str,
        unit: str,
        ours: list[float],
        baseline: list[float],
        baseline_label: str,
        **kwargs: Any,
    ) -> Row:
        return cls(
            section,
            label,
            unit,
            Spread.of(ours),
            Spread.of(baseline),
            baseline_label,
            ratios(ours, baseline),
            **kwargs,
        )

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        on, op, bound = self.target
        value = self.ratio if on == "ratio" else self.ours
        if value is None:
            return None
        return value.median <= bound if op == "<=" else value.median >= bound

    def target_text(self) -> str:
        if self.target is None:
            return ""
        on, op, bound = self.target
        sign = "≤" if op == "<=" else "≥"
        return f"{sign} {bound:g}×" if on == "ratio" else f"{sign} {bound:g} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "label": self.label,
            "unit": self.unit,
            "ours": self.ours.as_dict(),
            "baseline_label": self.baseline_label or None,
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "ratio": self.ratio.as_dict() if self.ratio else None,
            "target": self.target_text() or None,
            "met": self.met,
            "note": self.note or None,
            **({"extra": self.extra} if self.extra else {}),
        }


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def spread_text(spread: Spread | None, unit: str = "") -> str:
    if spread is None:
        return ""
    suffix = f" {unit}" if unit else ""
    if spread.n == 1:
        return f"{fmt(spread.median)}{suffix}"
    return f"{fmt(spread.median)}{suffix} ({fmt(spread.min)}–{fmt(spread.max)})"


def table(rows: list[Row], missing: list[tuple[str, str]]) -> str:
    """A Markdown table: one line per figure."""
    header = "| figure | StudyMate | baseline | ratio | target | met |"
    lines = [header, "|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        baseline = spread_text(row.baseline, row.unit)
        if baseline:
            baseline = f"{row.baseline_label}: {baseline}"
        ratio = spread_text(row.ratio, "×")
        lines.append(
            f"| {row.section} {row.label} | {spread_text(row.ours, row.unit)} | {baseline} "
            f"| {ratio} | {row.target_text()} | {met} |"
        )
    for section, reason in missing:
        lines.append(f"| {section} | {reason} | | | | |")
    return "\n".join(lines)


def latency_rows(
    section: str,
    what: str,
    baseline_label: str,
    raw: dict[int, list[float]],
    server_side: dict[int, list[float]],
    end_to_end: dict[int, list[float]],
    *,
    end_to_end_label: str = "end to end",
    end_to_end_p50_target: float | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Row]:
    """p50 and p99 in ms, server-side then end to end, each beside the same raw baseline."""
    rows = []
    for where, series in (("server-side", server_side), (end_to_end_label, end_to_end)):
        for q in (50, 99):
            target = None
            if series is end_to_end and q == 50 and end_to_end_p50_target is not None:
                target = ("value", "<=", end_to_end_p50_target)
            rows.append(
                Row.paired(
                    section,
                    f"{what}, {where} p{q}",
                    "ms",
                    series[q],
                    raw[q],
                    baseline_label,
                    target=target,
                    extra=extra,
                )
            )
    return rows
