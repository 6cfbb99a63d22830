"""After "Sync now": when the sync was asked for, carried in the Sagas tab's URL, so the tab can poll its status."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

SYNC_REQUESTED_PARAM = "sync_requested"  # epoch seconds of the request
# A sync takes seconds; one not finished after this is waiting for a worker, and the page stops asking.
SYNC_WAIT = timedelta(minutes=2)


def sync_requested_at(params: Mapping) -> datetime | None:
    """When the sync was asked for, from the tab's query; None when absent or not a time."""
    try:
        return datetime.fromtimestamp(float(params.get(SYNC_REQUESTED_PARAM, "")), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
