"""A token that changes whenever the synced CloudWatch alarms change, for caches of what is derived from them
(the catalog rows' alarm badges, observability.metrics.row_badges). portal.change_tokens says how it stays correct.

The alarm rows change in two places: the CloudWatch sync (observability.metrics.services._store_alarms, when an
alarm is created, deleted or any of its fields changes; a sync that finds everything as it was keeps the
token, so caches survive the sync's every-few-minutes runs), and the deletion of an AWS account, which
deletes its alarms with it (connected in observability.apps).
"""

from portal.change_tokens import ChangeToken

_TOKEN = ChangeToken("observability:alarms-version")


def alarms_version() -> str:
    return _TOKEN.current()


def alarms_changed(**_signal_arguments) -> None:
    """Call inside the writing transaction; the new token is set once it has committed. Also a receiver of
    the AWS account's post_delete signal (the alarms go with the account)."""
    _TOKEN.changed()
