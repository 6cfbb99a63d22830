"""Handing a new token's secret to the one page that shows it.

The secret waits in the session between the POST that made the token and the
page it redirects to, which removes it as it shows it: reloading that page, or
coming back to it, finds nothing. It is never stored anywhere else.
"""

_SESSION_KEY = "tokens:new-secret:{pk}"


def stash_secret(request, token, secret: str) -> None:
    request.session[_SESSION_KEY.format(pk=token.pk)] = secret


def pop_secret(request, token) -> str | None:
    return request.session.pop(_SESSION_KEY.format(pk=token.pk), None)
