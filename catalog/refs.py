"""Entity references, as Backstage writes them: `[kind:][namespace/]name`.

A reference in a spec field may leave out the kind (each field has a default:
`owner` means a Group, `system` a System, `providesApis` an API...) and the
namespace (the referring entity's own, which is usually `default`).
Identity is case-insensitive: `ref_key()` gives the lower-case form that the
database compares.
"""

import functools
from dataclasses import dataclass

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    pass


@dataclass(frozen=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    @functools.cached_property
    def key(self) -> str:
        return ref_key(self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.kind.lower()}:{self.namespace}/{self.name}"


def ref_key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def parse_ref(value, *, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE) -> EntityRef:
    """Parse a reference string; a missing kind takes `default_kind` (error if there is none)."""
    if not isinstance(value, str) or not value.strip():
        raise RefError(f"an entity reference must be a non-empty string, not {value!r}")
    return _parse(value, default_kind, default_namespace)


# An import of 1,000 entities parses ~7,000 references, mostly the same few hundred owners, systems and APIs,
# twice (validation, then relations). EntityRef is immutable, so a parsed one can be handed out again.
@functools.lru_cache(maxsize=16_384)
def _parse(value: str, default_kind: str | None, default_namespace: str) -> EntityRef:
    text = value.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = None, text
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = None, rest
    kind = kind or default_kind
    if not kind:
        raise RefError(f"reference {value!r} has no kind, and this field has no default kind")
    if not name:
        raise RefError(f"reference {value!r} has no name")
    return EntityRef(kind=kind, namespace=namespace or default_namespace, name=name)
