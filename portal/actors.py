"""Who is doing something: a signed-in user, an API token (acting for its user), or the system."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any = None  # portal.User
    token: Any = None  # portal.ApiToken, when the user acts through a token
    system: str = ""  # e.g. "task:aws_account_verify", when nobody is

    @classmethod
    def from_request(cls, request) -> "Actor":
        from portal.models import ApiToken

        token = getattr(request, "auth", None)
        return cls(user=request.user, token=token if isinstance(token, ApiToken) else None)

    @classmethod
    def for_system(cls, name: str) -> "Actor":
        return cls(system=name)

    @property
    def kind(self) -> str:
        if self.token is not None:
            return "token"
        if self.user is not None:
            return "user"
        return "system"

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"{self.user.username} via token {self.token.display_prefix}"
        if self.user is not None:
            return self.user.username
        return f"system:{self.system or 'unknown'}"
