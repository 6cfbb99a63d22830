"""Data migrations, run on rows written as the previous schema left them."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = ("catalog", "0009_unchecked_source_references"), ("catalog", "0010_team_groups_own_team")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_a_group_squatted_before_0010_goes_to_the_team_of_its_name():
    apps = migrate(BEFORE)
    Team, Entity = apps.get_model("portal", "Team"), apps.get_model("catalog", "Entity")
    orders, payments = Team.objects.create(slug="team-orders"), Team.objects.create(slug="Team-Payments")

    def group(name, owner_team):
        return Entity.objects.create(
            uid=uuid.uuid4(), api_version="backstage.io/v1alpha1", kind="Group", namespace="default", name=name,
            ref_key=f"group:default/{name}", kind_key="group", owner_team=owner_team, document={}, etag=name,
        )  # fmt: skip

    group("team-payments", orders)  # written by team-orders' maintainer, spec.owner: team-orders
    group("team-squat", orders)  # no Team of that name: portal admins' only
    try:
        apps = migrate(AFTER)
        owners = dict(apps.get_model("catalog", "Entity").objects.values_list("name", "owner_team_id"))
        assert owners == {"team-payments": payments.pk, "team-squat": None}
    finally:
        migrate(AFTER)


@pytest.mark.django_db(transaction=True)
def test_scores_stored_before_0011_are_counted_under_their_entitys_keys():
    from django.utils import timezone

    apps = migrate(AFTER)
    Entity, EntityScore = apps.get_model("catalog", "Entity"), apps.get_model("catalog", "EntityScore")
    entity = Entity.objects.create(
        uid=uuid.uuid4(), api_version="backstage.io/v1alpha1", kind="Component", namespace="default", name="a",
        ref_key="component:default/a", kind_key="component", owner_key="group:default/team-a",
        system_key="system:default/shop", document={}, etag="a",
    )  # fmt: skip
    EntityScore.objects.create(entity=entity, level="bronze", computed_at=timezone.now())
    try:
        apps = migrate(("catalog", "0011_score_counted_under"))
        score = apps.get_model("catalog", "EntityScore").objects.get()
        assert (score.owner_key, score.system_key) == ("group:default/team-a", "system:default/shop")
    finally:
        migrate(("catalog", "0011_score_counted_under"))
