"""What an import did, per location and per entity, in a form people read (the command) and programs use (the API,
the UI).

Each entity has one outcome: created, updated, unchanged (listed by reference per location), or refused with its
problems (`refused_entities`). The whole import has a status, the command's exit status too: 0 when everything
was applied, 1 when something was refused and the rest applied, 2 when nothing was applied. Warnings (an optional
target that is missing) are reported and change neither.
"""

from dataclasses import dataclass, field

from catalog.validation import Problem

APPLIED, PARTIAL, NOTHING = 0, 1, 2
OUTCOMES = {APPLIED: "applied", PARTIAL: "partial", NOTHING: "nothing applied"}


@dataclass
class RefusedEntity:
    index: int | None  # 0-based, as Problem.index
    ref: str | None  # None when the document does not name itself readably
    problems: list[Problem]


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
    refused_entities: list[RefusedEntity] = field(default_factory=list)  # `problems`, one entry per document

    @property
    def label(self) -> str:
        return f"{self.type}:{self.target}"

    @property
    def applied(self) -> bool:
        """Something of this location stands in the catalog as this import read it."""
        return not self.refused and bool(self.created or self.updated or self.unchanged or self.orphaned)


@dataclass
class ImportReport:
    locations: list[LocationReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the reading stage: YAML, sizes, Locations, URLs
    warnings: list[Problem] = field(default_factory=list)  # reported, not refused: a missing optional target
    rolled_back: str = ""  # an atomic import that refused something: why nothing was written

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
    def entities_refused(self) -> int:
        return self._count("refused_entities")

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for location in self.locations for p in location.problems)]

    @property
    def refused(self) -> list[LocationReport]:
        return [location for location in self.locations if location.refused]

    @property
    def ok(self) -> bool:
        return not self.all_problems and not self.refused

    @property
    def status(self) -> int:
        """0 all applied, 1 something refused and the rest applied, 2 nothing applied (and something refused)."""
        if self.ok:
            return APPLIED
        if self.rolled_back or not any(location.applied for location in self.locations):
            return NOTHING
        return PARTIAL

    def roll_back(self) -> None:
        """An atomic import refused something and was rolled back: nothing it listed as written stands."""
        problems = len(self.all_problems) + len(self.refused)
        self.rolled_back = (
            f"atomic import: {problems} refusal(s), so nothing was written; fix them, or import without atomic "
            "to apply the rest"
        )
        for location in self.locations:
            location.created, location.updated, location.orphaned = [], [], []
            location.refused = location.refused or "not applied: the import is atomic and something was refused"

    def as_dict(self) -> dict:
        def problem(p: Problem) -> dict:
            return {"source": p.source, "index": p.index, "field": p.field, "rule": p.rule, "message": p.message}

        return {
            "ok": self.ok,
            "status": self.status,
            "outcome": OUTCOMES[self.status],
            "rolled_back": self.rolled_back,
            "totals": {
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "orphaned": self.orphaned,
                "entities_refused": self.entities_refused,
                "problems": len(self.all_problems),
                "warnings": len(self.warnings),
                "refused": len(self.refused),
            },
            "problems": [problem(p) for p in self.problems],
            "warnings": [problem(p) for p in self.warnings],
            "locations": [
                {
                    "type": location.type,
                    "target": location.target,
                    "created": location.created,
                    "updated": location.updated,
                    "unchanged": location.unchanged,
                    "orphaned": location.orphaned,
                    "refused_entities": [
                        {"index": e.index, "ref": e.ref, "problems": [problem(p) for p in e.problems]}
                        for e in location.refused_entities
                    ],
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
            if verbosity >= 1 or location.refused or location.refused_entities:
                counts = ", ".join(
                    f"{len(getattr(location, name))} {label}"
                    for name, label in (
                        ("created", "created"),
                        ("updated", "updated"),
                        ("unchanged", "unchanged"),
                        ("orphaned", "orphaned"),
                        ("refused_entities", "refused"),
                    )
                    if getattr(location, name)
                )
                lines.append(f"{location.label}: {counts or 'nothing'}")
            if verbosity >= 2:
                for name in ("created", "updated", "orphaned"):
                    lines.extend(f"    {name} {ref}" for ref in getattr(location, name))
            if location.refused:
                lines.append(f"    REFUSED: {location.refused}")
            for entity in location.refused_entities:
                lines.append(f"    refused {entity.ref or 'a document'} ({_document(entity.index)}):")
                lines.extend(f"        {_where(p, source=False)}{p.message} [{p.rule}]" for p in entity.problems)
        if self.problems:
            lines.append("Problems while reading:")
            lines.extend(f"    {_where(p)}{p.message} [{p.rule}]" for p in self.problems)
        if self.warnings:
            lines.append("Warnings:")
            lines.extend(f"    {_where(p)}{p.message} [{p.rule}]" for p in self.warnings)
        if self.rolled_back:
            lines.append(f"ROLLED BACK: {self.rolled_back}.")
        lines.append(
            f"{len(self.locations)} location(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.orphaned} orphaned, {self.entities_refused} entities refused; "
            f"{len(self.refused)} location(s) refused, {len(self.all_problems)} problem(s), "
            f"{len(self.warnings)} warning(s): {OUTCOMES[self.status]}."
        )
        return "\n".join(lines)

    def extend(self, other: "ImportReport") -> None:
        self.locations.extend(other.locations)
        self.problems.extend(other.problems)
        self.warnings.extend(other.warnings)
        self.rolled_back = self.rolled_back or other.rolled_back


def _document(index: int | None) -> str:
    return "the whole source" if index is None else f"document {index + 1}"


def _where(p: Problem, *, source: bool = True) -> str:
    """Where, as a prefix: the source, the document counted from 1, and the field unless the message names it."""
    parts = [p.source] if source else []
    if source and p.index is not None:
        parts.append(p.document)
    if p.field and not p.message.startswith(p.field):
        parts.append(p.field)
    return ", ".join(parts) + ": " if parts else ""
