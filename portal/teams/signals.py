"""Signals the team service sends for the apps built on the portal (they connect receivers; the portal knows
none of them).

team_created(sender=Team, team=<Team>, actor=<Actor>)
    portal.teams.services.team_create made a team: from the admin, a management command, a catalog
    Group's import, anywhere. Sent inside the creating transaction, after the team's row and its audit
    event are written, so a receiver's writes commit or roll back with the team: the catalog gives the new
    team the entities whose spec.owner already names its Group, and no team is ever seen committed without
    them. A receiver must therefore be quick and raise only what should undo the creation; work that
    talks to anything outside the database belongs in transaction.on_commit.
"""

from django.dispatch import Signal

team_created = Signal()
