"""A readable before/after of an audit event: what was added, removed and changed, field by field.

Nested objects are followed (spec.owner, metadata.labels.tier) so that a change deep in a catalog document
reads as that one line; lists are compared whole, as a person reads them.
"""

import json
from dataclasses import dataclass
from typing import Any

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Change:
    path: str
    kind: str
    before: Any = None
    after: Any = None

    @property
    def before_text(self) -> str:
        return _text(self.before)

    @property
    def after_text(self) -> str:
        return _text(self.after)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and not value and not prefix:
        return {}
    if isinstance(value, dict) and value:
        flat = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix or "(value)": value}


def diff(before: Any, after: Any) -> list[Change]:
    """The changes from `before` to `after` (either may be None: a create or a delete), in path order."""
    old = _flatten(before) if before is not None else {}
    new = _flatten(after) if after is not None else {}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(Change(path, REMOVED, before=old[path]))
        elif path not in old:
            changes.append(Change(path, ADDED, after=new[path]))
        elif old[path] != new[path]:
            changes.append(Change(path, CHANGED, before=old[path], after=new[path]))
    return changes
