"""The content hash of an audit event, and the hashes and signatures of seals (docs/audit.md).

An event's hash is SHA-256 over a canonical JSON of its fields, computed from the row alone: writers (a
catalog import COPYing thousands of events a second) never read another row or wait for one. The id is not
in it, since COPY learns ids only from the database; the seal covers ids, in its digest of
"id:content_hash" lines.

The canonical form is what a field reads back as, whatever the database: UTC timestamps with microseconds,
JSON sorted by key after a round trip through Django's encoder, whole floats as integers (PostgreSQL's
jsonb reads `1e20` back as an integer), addresses in their compressed form. So the hash computed at insert
from Python values equals the one computed by `audit_verify` from what the database returns, or from an
archive file's JSON.
"""

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

HASH_VERSION = "v1"
# Every field of an event but its id, seal and the hash itself, by attname, in a fixed order.
HASHED_FIELDS = (
    "occurred_at",
    "actor_kind",
    "actor_user_id",
    "actor_token_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "team_id",
    "source",
    "before",
    "after",
    "request_id",
    "source_ip",
)
GENESIS_HASH = "0" * 64  # the previous_hash of the first seal


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def json_value(value: Any) -> Any:
    """A before/after as the database gives it back: encoded by DjangoJSONEncoder, then decoded."""
    if value is None:
        return None
    return _plain(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def timestamp(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def canonical(row: dict) -> bytes:
    """The bytes hashed for an event given as {attname: value} (a row to insert, a .values() dict, an archive's
    JSON line)."""
    fields = {name: row.get(name) for name in HASHED_FIELDS}
    fields["occurred_at"] = timestamp(fields["occurred_at"])
    # One pass over the documents (no encode-decode round trip: that was most of a bulk write's hashing time);
    # what Django's encoder turns into strings (datetimes, decimals, UUIDs) it turns into the same strings here.
    fields["before"] = _plain(fields["before"])
    fields["after"] = _plain(fields["after"])
    fields["source_ip"] = _ip(fields["source_ip"])
    for name in ("actor_user_id", "actor_token_id", "team_id"):
        fields[name] = None if fields[name] is None else int(fields[name])
    for name in (
        "actor_kind",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "source",
        "request_id",
    ):
        fields[name] = fields[name] or ""
    text = json.dumps(
        [HASH_VERSION, fields], sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return text.encode()


def content_hash(row: dict) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def events_digest(events: Iterable[tuple[int, str]]) -> str:
    """SHA-256 over "id:content_hash\\n" of each event, in the order given (the sealer's: by id)."""
    digest = hashlib.sha256()
    for event_id, event_hash in events:
        digest.update(f"{event_id}:{event_hash}\n".encode())
    return digest.hexdigest()


# The fields of a seal that its hash covers (all but the hash, signature, key id and archive).
SEAL_FIELDS = (
    "number",
    "created_at",
    "first_id",
    "last_id",
    "count",
    "ranges",
    "first_occurred_at",
    "last_occurred_at",
    "events_digest",
    "previous_hash",
)


def seal_hash(seal: dict) -> str:
    fields = {name: seal[name] for name in SEAL_FIELDS}
    for name in ("created_at", "first_occurred_at", "last_occurred_at"):
        fields[name] = timestamp(fields[name])
    fields["ranges"] = [[int(first), int(last)] for first, last in fields["ranges"]]
    text = json.dumps([HASH_VERSION, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def key_id(key: str) -> str:
    """A fingerprint that names a key without giving it away: which key signed a seal."""
    return "hmac-sha256:" + hashlib.sha256(b"meridian-audit-key-id:" + key.encode()).hexdigest()[:12]


def sign(key: str, digest: str) -> str:
    return hmac.new(key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def signature_valid(key: str, digest: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, digest), signature)
