"""The seal key, from the settings only: the database holds a fingerprint of it (AuditSeal.key_id), never the
key, so someone who can rewrite the database still cannot sign a seal."""

from django.conf import settings

from audit import hashing


def signing_key() -> str:
    return settings.AUDIT_SEAL_KEY


def verification_keys() -> dict[str, str]:
    """key_id -> key: the current key and the previous ones (AUDIT_SEAL_PREVIOUS_KEYS), for seals signed before
    a rotation."""
    keys = [settings.AUDIT_SEAL_KEY, *settings.AUDIT_SEAL_PREVIOUS_KEYS]
    return {hashing.key_id(key): key for key in keys if key}
