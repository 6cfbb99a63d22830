"""What an import did, per location, in a form people read (the command) and programs use (the API, the UI)."""

from dataclasses import dataclass, field

from catalog.validation import Problem


@dataclass
class LocationReport:
    type: str
    target: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # documents refused when the location was applied
    refused: str = ""  # non-empty when nothing of this location was written

    @property
    def label(self) -> str:
        return f"{self.type}:{self.target}"


@dataclass
class ImportReport:
    locations: list[LocationReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the reading stage: YAML, sizes, Locations, URLs

    def _count(self, name: str) -> int:
        return sum(len(getattr(location, name)) for location in self.locations)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def updated(self) -> int:
        return self._count("updated")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def orphaned(self) -> int:
        return self._count("orphaned")

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for location in self.locations for p in location.problems)]

    @property
    def refused(self) -> list[LocationReport]:
        return [location for location in self.locations if location.refused]

    @property
    def ok(self) -> bool:
        return not self.all_problems and not self.refused

    def as_dict(self) -> dict:
        def problem(p: Problem) -> dict:
            return {"source": p.source, "index": p.index, "field": p.field, "rule": p.rule, "message": p.message}

        return {
            "ok": self.ok,
            "totals": {
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "orphaned": self.orphaned,
                "problems": len(self.all_problems),
                "refused": len(self.refused),
            },
            "problems": [problem(p) for p in self.problems],
            "locations": [
                {
                    "type": location.type,
                    "target": location.target,
                    "created": location.created,
                    "updated": location.updated,
                    "unchanged": location.unchanged,
                    "orphaned": location.orphaned,
                    "problems": [problem(p) for p in location.problems],
                    "refused": location.refused,
                }
                for location in self.locations
            ],
        }

    def as_text(self, *, verbosity: int = 1) -> str:
        """0: problems and totals; 1: a line per location too; 2: every entity created, updated or orphaned."""
        lines = []
        for location in self.locations:
            if verbosity >= 1 or location.refused:
                counts = ", ".join(
                    f"{len(getattr(location, name))} {name}"
                    for name in ("created", "updated", "unchanged", "orphaned")
                    if getattr(location, name)
                )
                lines.append(f"{location.label}: {counts or 'nothing'}")
            if verbosity >= 2:
                for name in ("created", "updated", "orphaned"):
                    lines.extend(f"    {name} {ref}" for ref in getattr(location, name))
            if location.refused:
                lines.append(f"    REFUSED: {location.refused}")
            lines.extend(f"    problem: {_where(p)}: {p.message} [{p.rule}]" for p in location.problems)
        if self.problems:
            lines.append("Problems while reading:")
            lines.extend(f"    {_where(p)}: {p.message} [{p.rule}]" for p in self.problems)
        lines.append(
            f"{len(self.locations)} location(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.orphaned} orphaned; {len(self.refused)} refused, "
            f"{len(self.all_problems)} problem(s)."
        )
        return "\n".join(lines)

    def extend(self, other: "ImportReport") -> None:
        self.locations.extend(other.locations)
        self.problems.extend(other.problems)


def _where(p: Problem) -> str:
    parts = [p.source]
    if p.index is not None:
        parts.append(p.document)
    if p.field:
        parts.append(p.field)
    return ", ".join(parts)
