import yaml

from sandbox import estate


def _catalog_entities():
    return [doc for path in estate.catalog_files() for doc in yaml.safe_load_all(path.read_text())]


def test_the_estate_spans_teams_accounts_and_regions():
    services = estate.services()

    assert len(services) >= 8
    assert {team.name for team in estate.teams()} == {"team-orders", "team-payments", "team-platform"}
    assert {service.team for service in services} == {"team-orders", "team-payments", "team-platform"}
    assert [(a.name, a.id) for a in estate.accounts()] == [
        ("meridian-prod", "123456789012"),
        ("meridian-payments", "210987654321"),
    ]
    assert estate.account("210987654321").role_arn == "arn:aws:iam::210987654321:role/MeridianReadOnly"
    assert estate.account("meridian-payments").external_id == "meridian-demo"
    deployed = {(d.account.name, d.region) for s in services for d in s.deployments}
    assert {region for _, region in deployed} == set(estate.regions()) == {"eu-west-1", "us-east-1"}
    assert {account for account, _ in deployed} == {"meridian-prod", "meridian-payments"}
    assert estate.service("orders-api").tags == {"service": "orders-api", "team": "team-orders", "env": "prod"}


def test_every_service_has_a_backstage_component_owned_by_its_team():
    entities = _catalog_entities()
    components = {e["metadata"]["name"]: e for e in entities if e["kind"] == "Component"}
    groups = {e["metadata"]["name"] for e in entities if e["kind"] == "Group"}
    systems = {e["metadata"]["name"] for e in entities if e["kind"] == "System"}
    apis = {e["metadata"]["name"] for e in entities if e["kind"] == "API"}

    # Every deployed service, and one that is being built (no AWS resources yet; Silver on the scorecard).
    assert set(components) == {service.name for service in estate.services()} | {"returns-service"}
    for service in estate.services():
        spec = components[service.name]["spec"]
        assert spec["owner"] == f"group:{service.team}"
        assert spec["system"] == service.system in systems
    assert {team.name for team in estate.teams()} <= groups
    referenced = {api for c in components.values() for api in c["spec"].get("providesApis", [])}
    referenced |= {api for c in components.values() for api in c["spec"].get("consumesApis", [])}
    assert referenced == apis
    depended_on = {ref.split(":", 1)[1] for c in components.values() for ref in c["spec"].get("dependsOn", [])}
    assert depended_on <= set(components)


def test_api_entities_carry_openapi_definitions():
    apis = [e for e in _catalog_entities() if e["kind"] == "API"]

    assert apis
    for api in apis:
        definition = yaml.safe_load(api["spec"]["definition"])
        assert api["spec"]["type"] == "openapi"
        assert definition["openapi"].startswith("3.")
        assert definition["paths"]


def test_saga_compensations_follow_the_naming_rule():
    saga = estate.service("order-saga").deployments[0].resources["state_machines"][0]["definition"]
    states = saga["States"]
    compensations = {name for name in states if name.startswith(estate.COMPENSATION_PREFIX)}

    assert compensations == {"CompensateChargePayment", "CompensateReserveInventory"}
    for name in compensations:
        forward = name.removeprefix(estate.COMPENSATION_PREFIX)
        assert forward in states
        assert states[name]["Comment"].startswith(f"Compensation for {forward}")
    catch_targets = {catch["Next"] for state in states.values() for catch in state.get("Catch", [])}
    assert catch_targets == {"OrderFailed", "CompensateReserveInventory", "CompensateChargePayment"}


def test_the_estates_components_spread_over_the_scorecard_levels_as_a_real_estate_does(db):
    from catalog.importing.importer import import_paths
    from catalog.models import Entity
    from catalog.scorecards.evaluate import evaluate
    from portal.actors import Actor
    from tests.observability.estate import ACCOUNT, REGION, discover

    import_paths(actor=Actor.for_system("test"), paths=estate.catalog_files())
    # Each service's resources as discovery links them (its log group: a type with no golden signals, so the
    # alarm rule, which needs CloudWatch's alarms, does not apply here).
    discover(*((f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/meridian/{s.name}", s.name) for s in estate.services()))

    components = Entity.objects.filter(kind_key="component").select_related("location")
    levels = {card.entity.name: card.level for card in evaluate(list(components))}

    assert {name for name, level in levels.items() if level == "gold"} == {
        "inventory-service",
        "orders-api",
        "payments-api",
        "storefront-gateway",
    }
    assert levels["returns-service"] == "silver"  # runbook and rota ready, not deployed to AWS yet
    assert levels["cart-service"] == levels["fraud-detection"] == "bronze"  # an on-call rota, no runbook yet
    assert levels["notifications-service"] == "none"  # no description
