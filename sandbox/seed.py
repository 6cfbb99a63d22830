"""Seed the demo estate into a running sandbox, through plain boto3 calls as any client would make them.

`seed_estate(endpoint_url)` reads `sandbox.estate` and creates what is missing:
it looks each resource up first and creates only the ones it does not find, so a
second run against a live sandbox makes no write call at all. Every resource is
tagged with `service`, `team` and `env`. Each ECS service also gets an internal
Application Load Balancer and target group named after it (in its VPC, subnets and
security group), and each deployment's `alarms` watch golden signals on exactly the
metrics and dimensions the traffic generator emits (sandbox.traffic.signals).

The prod account is reached with the sandbox's fixed credentials (moto acts in
its default account, 123456789012, for keys it does not know); every other
account through `sts:AssumeRole` on the account's `admin_role_arn`, as an AWS
Organizations management account provisions a member account.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sandbox import estate
from sandbox.clients import SANDBOX_CREDENTIALS, EstateClients
from sandbox.estate import Account, Deployment, Service
from sandbox.traffic import signals

__all__ = ["SANDBOX_CREDENTIALS", "SeedSummary", "lambda_archive", "seed_estate"]

_LAMBDA_SOURCE = '''import json


def handler(event, context):
    """Demo function of the Meridian sandbox: answers with what it was given."""
    return {"statusCode": 200, "body": json.dumps(event)}
'''
_ALL_PRINCIPALS = ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com"]
_READ_ONLY_ACTIONS = ["*:Describe*", "*:Get*", "*:List*", "cloudtrail:LookupEvents", "xray:BatchGet*", "ce:Get*"]


@dataclass
class SeedSummary:
    created: list[str] = field(default_factory=list)
    existing: int = 0

    def __str__(self) -> str:
        return f"{len(self.created)} resources created, {self.existing} already there"


def seed_estate(endpoint_url: str) -> SeedSummary:
    """Create the demo estate's missing resources in the sandbox at `endpoint_url`."""
    seeder = _Seeder(endpoint_url)
    seeder.run()
    return seeder.summary


def lambda_archive() -> bytes:
    """The demo functions' deployment package, a zip built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", _LAMBDA_SOURCE)
    return buffer.getvalue()


def _tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def _substitute(value: Any, variables: dict[str, str]) -> Any:
    """Replace ${Name} in every string of a YAML structure, as CloudFormation's Fn::Sub does."""
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, str):
        return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], value)
    return value


class _Seeder:
    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url
        self.summary = SeedSummary()
        self._clients = EstateClients(endpoint_url, session_name="meridian-sandbox-seed")
        self._vpcs: dict[tuple[str, str, str], tuple[str, str, list[str]]] = {}  # -> (vpc id, cidr, subnet ids)
        self._namespaces: dict[tuple[str, str, str], str] = {}  # -> namespace id
        self._listings: dict[tuple[str, str, str], set[str]] = {}
        self._elbv2_index: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    # --- plumbing -------------------------------------------------------------

    def run(self) -> None:
        services = estate.services()
        for account in estate.accounts():
            self._ensure_account_roles(
                account, [s for s in services if any(d.account == account for d in s.deployments)]
            )
        # Phases, so that what a resource refers to exists before it: networks and
        # stores first, then what runs on them, then what routes to those.
        for phase in (
            ("vpcs", "ecs_clusters", "cloudmap_namespaces", "dynamodb_tables", "sqs_queues", "sns_topics"),
            ("lambda_functions", "ecs_services", "state_machines"),
            ("event_buses", "rest_apis"),
            ("alarms",),
        ):
            for service in services:
                for deployment in service.deployments:
                    for kind in phase:
                        for spec in deployment.resources.get(kind, []):
                            getattr(self, f"_ensure_{kind}")(service, deployment, spec)

    def _client(self, account: Account, region: str, service: str) -> Any:
        return self._clients.client(account, region, service)

    def _deployment_client(self, deployment: Deployment, service: str) -> Any:
        return self._client(deployment.account, deployment.region, service)

    def _created(self, what: str) -> None:
        self.summary.created.append(what)

    def _exists(self) -> None:
        self.summary.existing += 1

    def _listing(self, deployment: Deployment, kind: str, fetch) -> set[str]:
        """Names of one kind of resource in the deployment's account and region, listed once per run."""
        key = (deployment.account.id, deployment.region, kind)
        if key not in self._listings:
            self._listings[key] = set(fetch())
        return self._listings[key]

    def _arn(self, deployment: Deployment, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{deployment.region}:{deployment.account.id}:{resource}"

    @staticmethod
    def _role_arn(account: Account, service: Service) -> str:
        return f"arn:aws:iam::{account.id}:role/{service.name}-runtime"

    # --- IAM --------------------------------------------------------------------

    def _ensure_account_roles(self, account: Account, services: list[Service]) -> None:
        iam = self._client(account, "us-east-1", "iam")
        existing = {role["RoleName"] for page in iam.get_paginator("list_roles").paginate() for role in page["Roles"]}
        for service in services:
            name = f"{service.name}-runtime"
            if name in existing:
                self._exists()
                continue
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": _ALL_PRINCIPALS}, "Action": "sts:AssumeRole"}
                ],
            }
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=f"Runtime role of {service.name}",
                Tags=_tag_list(service.tags),
            )
            self._created(f"iam role {account.name}/{name}")
        if account.role_arn:
            name = account.role_arn.rsplit("/", 1)[-1]
            if name in existing:
                self._exists()
                return
            portal_account = estate.accounts()[0]
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{portal_account.id}:root"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": account.external_id}},
                    }
                ],
            }
            platform = estate.service("compute-platform")
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="Read-only access for the Meridian developer portal",
                Tags=_tag_list(platform.tags),
            )
            iam.put_role_policy(
                RoleName=name,
                PolicyName="meridian-read-only",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": _READ_ONLY_ACTIONS, "Resource": "*"}],
                    }
                ),
            )
            self._created(f"iam role {account.name}/{name}")

    # --- networks, clusters, discovery --------------------------------------------

    def _ensure_vpcs(self, service: Service, deployment: Deployment, spec: dict) -> None:
        ec2 = self._deployment_client(deployment, "ec2")
        tags = {**service.tags, "Name": spec["name"]}
        found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [spec["name"]]}])["Vpcs"]
        if found:
            vpc_id = found[0]["VpcId"]
            self._exists()
        else:
            vpc_id = ec2.create_vpc(
                CidrBlock=spec["cidr"], TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(tags)}]
            )["Vpc"]["VpcId"]
            self._created(f"vpc {spec['name']}")
        subnets = {
            s["CidrBlock"]: s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        }
        for index, cidr in enumerate(spec["subnets"]):
            if cidr in subnets:
                self._exists()
                continue
            name = f"{spec['name']}-private-{'abc'[index]}"
            subnets[cidr] = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=f"{deployment.region}{'abc'[index]}",
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list({**service.tags, "Name": name})}],
            )["Subnet"]["SubnetId"]
            self._created(f"subnet {name}")
        self._vpcs[(deployment.account.id, deployment.region, spec["name"])] = (
            vpc_id,
            spec["cidr"],
            [subnets[cidr] for cidr in spec["subnets"]],
        )

    def _ensure_ecs_clusters(self, service: Service, deployment: Deployment, name: str) -> None:
        ecs = self._deployment_client(deployment, "ecs")
        if any(c["status"] == "ACTIVE" for c in ecs.describe_clusters(clusters=[name])["clusters"]):
            self._exists()
            return
        ecs.create_cluster(
            clusterName=name,
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            settings=[{"name": "containerInsights", "value": "enabled"}],
            tags=_tag_list(service.tags, "key", "value"),
        )
        self._created(f"ecs cluster {name}")

    def _ensure_cloudmap_namespaces(self, service: Service, deployment: Deployment, spec: dict) -> None:
        sd = self._deployment_client(deployment, "servicediscovery")
        key = (deployment.account.id, deployment.region, spec["name"])
        found = [n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == spec["name"]]
        if found:
            self._namespaces[key] = found[0]
            self._exists()
            return
        vpc_id = self._vpcs[(deployment.account.id, deployment.region, spec["vpc"])][0]
        operation = sd.create_private_dns_namespace(Name=spec["name"], Vpc=vpc_id, Tags=_tag_list(service.tags))
        detail = sd.get_operation(OperationId=operation["OperationId"])["Operation"]
        self._namespaces[key] = detail["Targets"]["NAMESPACE"]
        self._created(f"cloud map namespace {spec['name']}")

    # --- stores and messaging -----------------------------------------------------

    def _ensure_dynamodb_tables(self, service: Service, deployment: Deployment, spec: dict) -> None:
        ddb = self._deployment_client(deployment, "dynamodb")
        tables = self._listing(
            deployment,
            "dynamodb",
            lambda: (t for p in ddb.get_paginator("list_tables").paginate() for t in p["TableNames"]),
        )
        if spec["name"] in tables:
            self._exists()
            return
        ddb.create_table(
            TableName=spec["name"],
            KeySchema=[{"AttributeName": spec["key"], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": spec["key"], "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=_tag_list(service.tags),
        )
        tables.add(spec["name"])
        self._created(f"dynamodb table {spec['name']}")

    def _ensure_sqs_queues(self, service: Service, deployment: Deployment, spec: dict) -> None:
        sqs = self._deployment_client(deployment, "sqs")
        queues = self._listing(
            deployment, "sqs", lambda: (url.rsplit("/", 1)[-1] for url in sqs.list_queues().get("QueueUrls", []))
        )
        if spec["name"] in queues:
            self._exists()
            return
        attributes = {"VisibilityTimeout": "60", "MessageRetentionPeriod": str(4 * 24 * 3600)}
        if spec.get("dead_letter_queue"):
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": self._arn(deployment, "sqs", spec["dead_letter_queue"]), "maxReceiveCount": 5}
            )
        sqs.create_queue(QueueName=spec["name"], Attributes=attributes, tags=service.tags)
        queues.add(spec["name"])
        self._created(f"sqs queue {spec['name']}")

    def _ensure_sns_topics(self, service: Service, deployment: Deployment, spec: dict) -> None:
        sns = self._deployment_client(deployment, "sns")
        topic_arn = self._arn(deployment, "sns", spec["name"])
        topics = self._listing(
            deployment,
            "sns",
            lambda: (t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]),
        )
        if topic_arn in topics:
            self._exists()
        else:
            sns.create_topic(Name=spec["name"], Tags=_tag_list(service.tags))
            topics.add(topic_arn)
            self._created(f"sns topic {spec['name']}")
        subscribed = {s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]}
        for queue in spec.get("subscriptions", []):
            queue_arn = self._arn(deployment, "sqs", queue)
            if queue_arn in subscribed:
                self._exists()
                continue
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
            self._created(f"sns subscription {spec['name']} -> {queue}")

    # --- compute ----------------------------------------------------------------------

    def _ensure_lambda_functions(self, service: Service, deployment: Deployment, spec: dict) -> None:
        aws_lambda = self._deployment_client(deployment, "lambda")
        functions = self._listing(
            deployment,
            "lambda",
            lambda: (
                f["FunctionName"] for p in aws_lambda.get_paginator("list_functions").paginate() for f in p["Functions"]
            ),
        )
        if spec["name"] in functions:
            self._exists()
            return
        aws_lambda.create_function(
            FunctionName=spec["name"],
            Runtime=spec.get("runtime", "python3.12"),
            Role=self._role_arn(deployment.account, service),
            Handler="app.handler",
            Code={"ZipFile": self._lambda_archive},
            Description=spec.get("description", ""),
            Timeout=spec.get("timeout", 10),
            MemorySize=spec.get("memory", 256),
            Environment={"Variables": {"SERVICE": service.name, "ENV": service.env}},
            TracingConfig={"Mode": "Active"},
            Tags=service.tags,
        )
        functions.add(spec["name"])
        self._created(f"lambda function {spec['name']}")

    @cached_property
    def _lambda_archive(self) -> bytes:
        return lambda_archive()

    def _ensure_ecs_services(self, service: Service, deployment: Deployment, spec: dict) -> None:
        ecs = self._deployment_client(deployment, "ecs")
        name, cluster = spec["name"], spec["cluster"]
        if any(s["status"] == "ACTIVE" for s in ecs.describe_services(cluster=cluster, services=[name])["services"]):
            self._exists()
            return
        vpc_id, cidr, subnet_ids = self._vpcs[(deployment.account.id, deployment.region, spec["vpc"])]
        security_group = self._security_group(service, deployment, vpc_id, cidr, spec)
        role_arn = self._role_arn(deployment.account, service)
        families = ecs.list_task_definition_families(familyPrefix=name, status="ACTIVE")["families"]
        if name not in families:
            ecs.register_task_definition(
                family=name,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu=str(spec["cpu"]),
                memory=str(spec["memory"]),
                executionRoleArn=role_arn,
                taskRoleArn=role_arn,
                containerDefinitions=[
                    {
                        "name": name,
                        "image": spec["image"],
                        "essential": True,
                        "portMappings": [{"containerPort": spec["port"], "protocol": "tcp"}],
                        "environment": [{"name": "SERVICE", "value": service.name}],
                    }
                ],
                tags=_tag_list(service.tags, "key", "value"),
            )
            self._created(f"ecs task definition {name}")
        target_group_arn = self._load_balancer(service, deployment, spec, vpc_id, subnet_ids, security_group)
        registries = []
        if spec.get("namespace"):
            registries = [{"registryArn": self._cloudmap_service(service, deployment, spec["namespace"], name)}]
        ecs.create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition=name,
            desiredCount=spec["desired_count"],
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": subnet_ids,
                    "securityGroups": [security_group],
                    "assignPublicIp": "DISABLED",
                }
            },
            serviceRegistries=registries,
            loadBalancers=[{"targetGroupArn": target_group_arn, "containerName": name, "containerPort": spec["port"]}],
            healthCheckGracePeriodSeconds=30,
            deploymentConfiguration={
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
            propagateTags="SERVICE",
            tags=_tag_list(service.tags, "key", "value"),
        )
        self._created(f"ecs service {name}")

    def _elbv2(self, deployment: Deployment) -> dict[str, dict[str, Any]]:
        """{"load_balancers": {name: arn}, "target_groups": {name: description}} of a deployment, listed once."""
        key = (deployment.account.id, deployment.region)
        if key not in self._elbv2_index:
            elbv2 = self._deployment_client(deployment, "elbv2")
            self._elbv2_index[key] = {
                "load_balancers": {
                    lb["LoadBalancerName"]: lb["LoadBalancerArn"]
                    for page in elbv2.get_paginator("describe_load_balancers").paginate()
                    for lb in page["LoadBalancers"]
                },
                "target_groups": {
                    tg["TargetGroupName"]: tg
                    for page in elbv2.get_paginator("describe_target_groups").paginate()
                    for tg in page["TargetGroups"]
                },
            }
        return self._elbv2_index[key]

    def _load_balancer(
        self, service: Service, deployment: Deployment, spec: dict, vpc_id: str, subnet_ids: list[str], group: str
    ) -> str:
        """The ECS service's internal Application Load Balancer and its target group (both named after the
        service), with an HTTP listener forwarding to it; the target group's ARN."""
        elbv2 = self._deployment_client(deployment, "elbv2")
        index = self._elbv2(deployment)
        name = spec["name"]
        tags = _tag_list(service.tags)
        if name in index["load_balancers"]:
            self._exists()
        else:
            index["load_balancers"][name] = elbv2.create_load_balancer(
                Name=name,
                Subnets=subnet_ids,
                SecurityGroups=[group],
                Scheme="internal",
                Type="application",
                IpAddressType="ipv4",
                Tags=tags,
            )["LoadBalancers"][0]["LoadBalancerArn"]
            self._created(f"load balancer {name}")
        lb_arn = index["load_balancers"][name]
        if name in index["target_groups"]:
            self._exists()
            return index["target_groups"][name]["TargetGroupArn"]
        target_group = elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=spec["port"],
            VpcId=vpc_id,
            TargetType="ip",  # Fargate tasks (awsvpc) register by IP address
            HealthCheckPath="/health",
            Tags=tags,
        )["TargetGroups"][0]
        elbv2.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}],
        )
        index["target_groups"][name] = {**target_group, "LoadBalancerArns": [lb_arn]}
        self._created(f"target group {name}")
        return target_group["TargetGroupArn"]

    def _security_group(self, service: Service, deployment: Deployment, vpc_id: str, cidr: str, spec: dict) -> str:
        ec2 = self._deployment_client(deployment, "ec2")
        group_name = f"{spec['name']}-tasks"
        found = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [group_name]}, {"Name": "vpc-id", "Values": [vpc_id]}]
        )["SecurityGroups"]
        if found:
            self._exists()
            return found[0]["GroupId"]
        group_id = ec2.create_security_group(
            GroupName=group_name,
            Description=f"Tasks of {spec['name']}",
            VpcId=vpc_id,
            TagSpecifications=[
                {"ResourceType": "security-group", "Tags": _tag_list({**service.tags, "Name": group_name})}
            ],
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": spec["port"], "ToPort": spec["port"], "IpRanges": [{"CidrIp": cidr}]}
            ],
        )
        self._created(f"security group {group_name}")
        return group_id

    def _cloudmap_service(self, service: Service, deployment: Deployment, namespace: str, name: str) -> str:
        sd = self._deployment_client(deployment, "servicediscovery")
        namespace_id = self._namespaces[(deployment.account.id, deployment.region, namespace)]
        found = [
            s["Arn"]
            for s in sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id]}])["Services"]
            if s["Name"] == name
        ]
        if found:
            self._exists()
            return found[0]
        self._created(f"cloud map service {name}.{namespace}")
        return sd.create_service(
            Name=name,
            NamespaceId=namespace_id,
            DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 60}], "RoutingPolicy": "MULTIVALUE"},
            HealthCheckCustomConfig={"FailureThreshold": 1},
            Tags=_tag_list(service.tags),
        )["Service"]["Arn"]

    def _ensure_state_machines(self, service: Service, deployment: Deployment, spec: dict) -> None:
        sfn = self._deployment_client(deployment, "stepfunctions")
        machines = self._listing(
            deployment,
            "stepfunctions",
            lambda: (
                m["name"] for p in sfn.get_paginator("list_state_machines").paginate() for m in p["stateMachines"]
            ),
        )
        if spec["name"] in machines:
            self._exists()
            return
        definition = _substitute(spec["definition"], {"AccountId": deployment.account.id, "Region": deployment.region})
        sfn.create_state_machine(
            name=spec["name"],
            definition=json.dumps(definition),
            roleArn=self._role_arn(deployment.account, service),
            type="STANDARD",
            tracingConfiguration={"enabled": True},
            tags=_tag_list(service.tags, "key", "value"),
        )
        machines.add(spec["name"])
        self._created(f"state machine {spec['name']}")

    # --- routing ------------------------------------------------------------------------

    def _ensure_event_buses(self, service: Service, deployment: Deployment, spec: dict) -> None:
        events = self._deployment_client(deployment, "events")
        bus = spec["name"]
        if any(b["Name"] == bus for b in events.list_event_buses(NamePrefix=bus)["EventBuses"]):
            self._exists()
        else:
            events.create_event_bus(Name=bus, Tags=_tag_list(service.tags))
            self._created(f"event bus {bus}")
        rules = {r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]}
        for rule in spec.get("rules", []):
            if rule["name"] in rules:
                self._exists()
                continue
            events.put_rule(
                Name=rule["name"],
                EventBusName=bus,
                EventPattern=json.dumps(rule["pattern"]),
                Description=rule.get("description", ""),
                State="ENABLED",
                Tags=_tag_list(service.tags),
            )
            events.put_targets(
                Rule=rule["name"],
                EventBusName=bus,
                Targets=[
                    self._event_target(service, deployment, index, target)
                    for index, target in enumerate(rule["targets"])
                ],
            )
            self._created(f"event rule {bus}/{rule['name']}")

    def _event_target(self, service: Service, deployment: Deployment, index: int, target: dict) -> dict:
        if "state_machine" in target:
            return {
                "Id": f"target-{index}",
                "Arn": self._arn(deployment, "states", f"stateMachine:{target['state_machine']}"),
                "RoleArn": self._role_arn(deployment.account, service),
            }
        return {"Id": f"target-{index}", "Arn": self._arn(deployment, "sqs", target["queue"])}

    def _ensure_rest_apis(self, service: Service, deployment: Deployment, spec: dict) -> None:
        apigateway = self._deployment_client(deployment, "apigateway")
        if any(api["name"] == spec["name"] for api in apigateway.get_rest_apis(limit=500).get("items", [])):
            self._exists()
            return
        api_id = apigateway.create_rest_api(
            name=spec["name"],
            description=service.description,
            endpointConfiguration={"types": ["REGIONAL"]},
            tags=service.tags,
        )["id"]
        root_id = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        for route in spec["routes"]:
            if "lambda" in route:
                function_arn = self._arn(deployment, "lambda", f"function:{route['lambda']}")
                invocations = f"path/2015-03-31/functions/{function_arn}/invocations"
                integration = {
                    "type": "AWS_PROXY",
                    "integrationHttpMethod": "POST",
                    "uri": f"arn:aws:apigateway:{deployment.region}:lambda:{invocations}",
                }
            else:
                integration = {"type": "HTTP_PROXY", "integrationHttpMethod": "ANY", "uri": route["http"]}
            # /<path> and everything below it (/<path>/{proxy+}) go to the same backend.
            parent_id = root_id
            for path_part in (route["path"], "{proxy+}"):
                parent_id = apigateway.create_resource(restApiId=api_id, parentId=parent_id, pathPart=path_part)["id"]
                apigateway.put_method(
                    restApiId=api_id, resourceId=parent_id, httpMethod="ANY", authorizationType="NONE"
                )
                apigateway.put_integration(restApiId=api_id, resourceId=parent_id, httpMethod="ANY", **integration)
        apigateway.create_deployment(
            restApiId=api_id, stageName=spec["stage"], description="Seeded by the Meridian sandbox"
        )
        self._created(f"rest api {spec['name']}")

    # --- alarms ---------------------------------------------------------------------------

    def _ensure_alarms(self, service: Service, deployment: Deployment, spec: dict) -> None:
        """A CloudWatch alarm on a golden signal, on exactly the contract's namespace, metric and dimensions."""
        cloudwatch = self._deployment_client(deployment, "cloudwatch")
        alarms = self._listing(
            deployment,
            "cloudwatch-alarms",
            lambda: (
                a["AlarmName"]
                for p in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
                for a in p["MetricAlarms"]
            ),
        )
        if spec["name"] in alarms:
            self._exists()
            return
        ((resource_type, resource_name),) = spec["resource"].items()
        metric = signals.signal(resource_type, spec["metric"])
        statistic = str(spec["statistic"])
        chosen = {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
        cloudwatch.put_metric_alarm(
            AlarmName=spec["name"],
            AlarmDescription=spec.get("description", ""),
            Namespace=metric.namespace,
            MetricName=metric.metric,
            Dimensions=signals.dimensions(resource_type, self._metric_ids(deployment, resource_type, resource_name)),
            Period=spec.get("period", 60),
            EvaluationPeriods=spec["periods"],
            DatapointsToAlarm=spec.get("datapoints", spec["periods"]),
            Threshold=float(spec["threshold"]),
            ComparisonOperator=spec["comparison"],
            TreatMissingData=spec.get("missing", "missing"),
            Unit=metric.unit,
            Tags=_tag_list(service.tags),
            **chosen,
        )
        alarms.add(spec["name"])
        self._created(f"alarm {spec['name']}")

    def _metric_ids(self, deployment: Deployment, resource_type: str, name: str) -> dict[str, str]:
        """What sandbox.traffic.signals.dimensions needs to name the resource `name` of the deployment."""
        match resource_type:
            case "target-group":
                target_group = self._elbv2(deployment)["target_groups"][name]
                return {
                    "target_group_arn": target_group["TargetGroupArn"],
                    "load_balancer_arn": target_group["LoadBalancerArns"][0],
                }
            case "ecs-service":
                (spec,) = [s for s in deployment.resources["ecs_services"] if s["name"] == name]
                return {"cluster": spec["cluster"], "service": name}
            case "state-machine":
                return {"state_machine_arn": self._arn(deployment, "states", f"stateMachine:{name}")}
        key = {"lambda-function": "function", "api-gateway": "api", "dynamodb-table": "table", "sqs-queue": "queue"}
        return {key[resource_type]: name}
