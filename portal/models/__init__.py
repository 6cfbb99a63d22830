from portal.models.teams import Membership, Role, Team
from portal.models.tokens import ApiToken, Scope
from portal.models.users import User

__all__ = ["ApiToken", "Membership", "Role", "Scope", "Team", "User"]
