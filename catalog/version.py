"""A token that changes whenever the catalog's entities change, for caches of what is derived from them
(portal.change_tokens says how such a token stays correct across processes and transactions)."""

from portal.change_tokens import ChangeToken

_TOKEN = ChangeToken("catalog:version")


def catalog_version() -> str:
    return _TOKEN.current()


def catalog_changed() -> None:
    """Call inside the writing transaction; the new token is set once it has committed."""
    _TOKEN.changed()
