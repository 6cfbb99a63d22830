"""A token that changes whenever the catalog's entities change, for caches of what is derived from them.

Kept in the shared cache (every web and worker process sees the same one). Writes call `catalog_changed()`
inside their transaction; the new token is set once the transaction has committed, so a reader that sees
the new token also sees the new rows, and nothing computed from the old rows is ever filed under it.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

_KEY = "catalog:version"
_TIMEOUT = 7 * 24 * 3600


def catalog_version() -> str:
    version = cache.get(_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(_KEY, version, _TIMEOUT)
        version = cache.get(_KEY, version)
    return version


def catalog_changed() -> None:
    transaction.on_commit(lambda: cache.set(_KEY, uuid.uuid4().hex, _TIMEOUT))
