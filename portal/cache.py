"""Counters that are atomic across processes: `window_count`, and Django's file cache with `add` and `incr`
made atomic.

The file cache is the shared cache of one machine (`make run`: gunicorn's workers and threads, Celery's
worker and beat). Django's own `add` and `incr` there are a read followed by a write, so two processes
counting at once both read 5 and both write 6; a rate limit counted that way lets through whatever
concurrency it is offered. Redis, Memcached and the local-memory cache count atomically already.
"""

import os
import pickle
import zlib
from contextlib import contextmanager

from django.core.cache.backends import filebased
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.files import locks
from django.core.files.move import file_move_safe
from django.utils.connection import ConnectionProxy


class FileBasedCache(filebased.FileBasedCache):
    @contextmanager
    def _exclusive(self):
        self._createdir()
        # Not a *.djcache file, so neither culling nor clear() removes it from under a holder.
        with open(os.path.join(self._dir, "counters.lock"), "ab") as lock_file:
            locks.lock(lock_file, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock_file)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._exclusive():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """Add `delta`, keeping the entry's expiry (Django's incr would reset it to the default timeout)."""
        with self._exclusive():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "rb") as f:
                    if self._is_expired(f):
                        raise ValueError(f"Key '{key}' not found")
                    f.seek(0)
                    expiry = pickle.load(f)  # noqa: S301 - the cache's own files, read as Django reads them
                    value = pickle.loads(zlib.decompress(f.read())) + delta  # noqa: S301
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found") from None
            temporary = f"{fname}.incr"
            with open(temporary, "wb") as f:
                f.write(pickle.dumps(expiry, self.pickle_protocol))
                f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
            file_move_safe(temporary, fname, allow_overwrite=True)
            return value


def window_count(cache, key: str, timeout: int) -> int:
    """Add one to the counter `key` (made at 0, to expire `timeout` seconds from now) and return its value.

    On Redis the counter is made and counted in one round trip (SET NX EX, then INCR, in one MULTI/EXEC), not
    the three of `add` then `incr` (SET NX, EXISTS, INCRBY): the API's two rate limits were six round trips
    on every request. INCR keeps the expiry SET gave, and both are atomic on the server, so concurrent
    requests each get their own count. Other caches count with `add` and `incr`, atomic on each of them.
    """
    if isinstance(cache, ConnectionProxy):  # django.core.cache.cache, as DRF's throttles hold it
        cache = cache._connections[cache._alias]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        # Django's RedisCache has no public way to send two commands at once; its client gives the connection.
        client = cache._cache.get_client(full_key, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(full_key, 0, ex=timeout, nx=True)
            pipe.incr(full_key)
            return pipe.execute()[1]
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # culled between add and incr: count afresh rather than fail the request
        cache.add(key, 1, timeout=timeout)
        return 1
