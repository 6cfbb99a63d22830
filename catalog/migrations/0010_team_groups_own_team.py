"""A Group in namespace default belongs to its own Team (catalog.services._team_key), whatever its spec.owner
says. Before, its owner_team followed spec.owner, so a Group written by another team's maintainer could be
theirs: this gives each such Group to the Team of its name, or to none while no Team has it (then only portal
admins may change it)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower


def own_team(apps, schema_editor):
    Entity = apps.get_model("catalog", "Entity")
    Team = apps.get_model("portal", "Team")
    team = Team.objects.annotate(slug_key=Lower("slug")).filter(slug_key=Lower(OuterRef("name"))).values("pk")[:1]
    Entity.objects.filter(kind_key="group", namespace="default").update(owner_team=Subquery(team))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_unchecked_source_references"),
        ("portal", "0002_apitoken_minted_by"),
    ]

    operations = [migrations.RunPython(own_team, migrations.RunPython.noop)]
