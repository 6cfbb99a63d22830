"""Tokens that change whenever some data changes, for caches of what is derived from that data.

A cache key that includes the token of every piece of data its value was computed from needs no
invalidation: once the data changes, the key changes, and the old entry is never read again (it expires).

A token is kept in the shared cache (every web and worker process sees the same one). Writers call
`changed()` inside their transaction; the new token is set once the transaction has committed, so a reader
that sees the new token also sees the new rows, and nothing computed from the old rows is ever filed under
it. A token lost from the cache (evicted, cache cleared) comes back as a new one: a miss, never a stale hit.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

_TIMEOUT = 7 * 24 * 3600


class ChangeToken:
    def __init__(self, key: str):
        self.key = key

    def current(self) -> str:
        token = cache.get(self.key)
        if token is None:
            token = uuid.uuid4().hex
            cache.add(self.key, token, _TIMEOUT)
            token = cache.get(self.key, token)
        return token

    def changed(self) -> None:
        transaction.on_commit(lambda: cache.set(self.key, uuid.uuid4().hex, _TIMEOUT))
