"""The verdict of an import: counts that add up, and every rejected row with its reason."""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reject:
    """A row that was not imported: where it was, which field, why, and the row itself."""

    position: int
    field: str | None
    reason: str
    raw: str

    def describe(self, unit: str) -> str:
        """One line a person can act on: 'line 7, field quantity: must be > 0'."""
        where = f"{unit} {self.position}"
        if self.field and not self.reason.startswith(f"{self.field}:"):
            where += f", field {self.field}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """Counts for one import. `accepted + rejected == submitted` always holds.

    Accepted rows are further split into what they did to the database: inserted,
    updated, or unchanged (the same row was already there, e.g. a re-import).
    """

    target: str
    source: str
    unit: str = "line"  # what `Reject.position` counts: line, index or row
    keep_rejects: int = 1000  # rejects kept in memory to show; all go to the database
    run_id: int | None = None
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    created: Counter[str] = field(default_factory=Counter)
    treatment: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    derived: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def reject(self, reject: Reject) -> None:
        """Count a rejected row and keep it for display."""
        self.rejected += 1
        self.reasons[_reason_kind(reject.reason)] += 1
        if len(self.rejects) < self.keep_rejects:
            self.rejects.append(reject)

    @property
    def balanced(self) -> bool:
        """Every submitted row has exactly one verdict."""
        return self.accepted + self.rejected == self.submitted and (
            self.inserted + self.updated + self.unchanged <= self.accepted
        )

    def as_json(self, rejects: int = 100) -> dict[str, Any]:
        """The report as plain JSON types, with its first `rejects` rejects.

        Written out field by field: `dataclasses.asdict` rebuilds a Counter from its
        (key, count) pairs, which turns every count into a tuple key.
        """
        return {
            "target": self.target,
            "source": self.source,
            "unit": self.unit,
            "run_id": self.run_id,
            "submitted": self.submitted,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            **self.notes(),
            "rejects": [
                {"position": r.position, "field": r.field, "reason": r.reason, "raw": r.raw}
                for r in self.rejects[:rejects]
            ],
        }

    def notes(self) -> dict[str, Any]:
        """What the import log keeps besides the counts."""
        return {
            "created": dict(self.created),
            "treatment": dict(self.treatment),
            "reject_reasons": dict(self.reasons),
            "derived": self.derived,
            "warnings": self.warnings,
        }


def _reason_kind(reason: str) -> str:
    """Group rejects by their reason with quoted values and numbers blanked out."""
    blanked = re.sub(r"'[^']*'", "'…'", reason)
    blanked = re.sub(r"\(got .*?\)", "(got …)", blanked)
    return re.sub(r"-?\d[\d.,:+T-]*", "N", blanked)[:160]


def _n(value: int) -> str:
    return f"{value:,}"


def summary(report: ImportReport, shown: int = 20) -> list[str]:
    """The report as lines of text for a terminal."""
    lines = [
        f"{report.target} from {report.source} (import run {report.run_id})",
        f"  submitted {_n(report.submitted):>12} rows",
        f"  accepted  {_n(report.accepted):>12}  (inserted {_n(report.inserted)}, "
        f"updated {_n(report.updated)}, unchanged {_n(report.unchanged)})",
        f"  rejected  {_n(report.rejected):>12}",
    ]
    if report.created:
        made = ", ".join(f"{_n(n)} {table}" for table, n in sorted(report.created.items()))
        lines.append(f"  created for unknown references: {made}")
    for name, counts in report.derived.items():
        parts = ", ".join(f"{k.replace('_', ' ')} {_n(v)}" for k, v in counts.items())
        lines.append(f"  {name}: {parts}")
    if report.treatment:
        lines.append("  how rows were treated:")
        lines += [f"    {_n(n):>9}  {what}" for what, n in report.treatment.most_common()]
    if report.reasons:
        lines.append("  why rows were rejected:")
        lines += [f"    {_n(n):>9}  {why}" for why, n in report.reasons.most_common(10)]
    if report.rejects:
        lines.append(f"  first rejects ({report.unit} numbers as in the input):")
        lines += [f"    {r.describe(report.unit)}" for r in report.rejects[:shown]]
    lines += [f"  warning: {w}" for w in report.warnings]
    return lines
