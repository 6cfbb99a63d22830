"""An order saga in the sandbox and in the catalog, linked the way production links them (the `order_saga`
fixture of conftest.py builds it with `build_order_saga`).

The state machine is created in the sandbox with the tags `service=order-saga` and `team=team-orders`;
AWS discovery (the real catalog.discovery) then writes its Resource entity, linked to the Component
order-saga by spec.dependencyOf; saga_machines_refresh mirrors it into a SagaStateMachine row.
"""

from dataclasses import dataclass

from catalog.discovery import discovery_run
from catalog.models import Entity
from catalog.services import entity_create
from observability.models import SagaStateMachine
from observability.sagas.services import saga_machines_refresh
from portal.actors import Actor
from portal.aws.models import AwsAccount
from tests.observability.sagas import machines

TAGS = {"service": "order-saga", "team": "team-orders", "env": "prod"}


@dataclass
class OrderSaga:
    endpoint: str
    sfn: object  # a boto3 Step Functions client on the sandbox
    arn: str
    account: AwsAccount
    component: Entity

    def run(self, name: str, *, failing: tuple[str, ...] = (), wait: int = 0, finish: bool = True) -> str:
        return machines.run_order(self.sfn, self.arn, name, failing=failing, wait=wait, finish=finish)

    def machine(self) -> SagaStateMachine:
        return SagaStateMachine.objects.select_related("account").get(arn=self.arn)


def component_document(name: str = "order-saga", *, annotations: dict | None = None, tags=("step-functions",)) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations or {}, "tags": list(tags)},
        "spec": {"type": "workflow", "lifecycle": "production", "owner": "group:default/team-orders"},
    }


def build_order_saga(endpoint: str, account: AwsAccount) -> OrderSaga:
    component = entity_create(actor=Actor.for_system("test"), document=component_document())
    sfn = machines.sfn_client(endpoint)
    arn = machines.create_machine(sfn, "order-saga", machines.order_saga(), tags=TAGS)
    discovery_run(account=account, region=machines.REGION)
    saga_machines_refresh()
    return OrderSaga(endpoint=endpoint, sfn=sfn, arn=arn, account=account, component=component)
