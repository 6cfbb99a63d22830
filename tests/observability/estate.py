"""A small estate for observability tests, written by the real catalog services and AWS discovery's own
document builder: Components (from a file location) and the Resources discovery would make of ARNs."""

from catalog.aws import TaggedResource
from catalog.discovery import ComponentSelectors, location_target, resource_document
from catalog.models import Entity, Location
from catalog.services import Incoming, entities_apply, location_for
from portal.actors import Actor

ACCOUNT = "123456789012"  # moto's default account: what the test credentials land in
REGION = "eu-west-1"
ACTOR = Actor.for_system("test")


def lambda_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def ecs_arn(cluster: str, name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}"


def target_group_arn(name: str, suffix: str = "0123456789abcdef") -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/{suffix}"


def state_machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def rest_api_arn(api_id: str) -> str:
    return f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"


def _apply(location: Location, documents: list[dict]) -> None:
    result = entities_apply(
        actor=ACTOR,
        location=location,
        incoming=[Incoming(document=d, source=location.target, index=i) for i, d in enumerate(documents)],
        complete=False,
    )
    assert not result.problems and not result.refused, (result.problems, result.refused)


def components(*names: str, owner: str = "team-orders", system: str = "commerce", annotations=None) -> list[Entity]:
    documents = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "description": f"The {name} service.", "annotations": annotations or {}},
            "spec": {"type": "service", "lifecycle": "production", "owner": f"group:{owner}", "system": system},
        }
        for name in names
    ]
    _apply(location_for(type=Location.Type.FILE, target="/catalog/services.yaml"), documents)
    found = {e.name: e for e in Entity.objects.filter(kind_key="component", name__in=names)}
    return [found[name] for name in names]  # in the order given


def system(name: str, owner: str = "team-orders") -> Entity:
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {"name": name, "description": f"The {name} system."},
        "spec": {"owner": f"group:{owner}"},
    }
    _apply(location_for(type=Location.Type.FILE, target="/catalog/systems.yaml"), [document])
    return Entity.objects.get(kind_key="system", name=name)


def discover(*resources: tuple[str, str], team: str = "team-orders") -> list[Entity]:
    """Resources as AWS discovery writes them, for (ARN, service tag) pairs, each in its account and region's
    discovery location."""
    by_location: dict[str, list[dict]] = {}
    no_selectors = ComponentSelectors(by_arn={}, by_tags=[])
    for arn, service in resources:
        tags = {"service": service, "team": team}
        document = resource_document(TaggedResource(arn=arn, tags=tags), selectors=no_selectors)
        if ":targetgroup/" in arn or ":loadbalancer/" in arn:
            # The spec.type discovery gives ALB resources once the parallel ALB work (issue 4) is merged.
            document["spec"]["type"] = "target-group" if ":targetgroup/" in arn else "load-balancer"
        account, region = arn.split(":")[4] or ACCOUNT, arn.split(":")[3]
        by_location.setdefault(location_target(account, region), []).append(document)
    for target, documents in by_location.items():
        _apply(location_for(type=Location.Type.DISCOVERY, target=target), documents)
    arns = [arn for arn, _ in resources]
    found = {e.annotations["amazonaws.com/arn"]: e for e in Entity.objects.filter(kind_key="resource")}
    return [found[arn] for arn in arns]


def lambda_services(count: int, *, prefix: str = "svc", owner: str = "team-orders") -> list[Entity]:
    """`count` components, each with one Lambda function of the same name."""
    names = [f"{prefix}-{i:03d}" for i in range(count)]
    made = components(*names, owner=owner)
    discover(*((lambda_arn(name), name) for name in names), team=owner)
    return made
