"""The demo estate the sandbox seeds, read from the YAML files beside this module.

`estate.yaml` holds the accounts, regions, teams and systems; `services/*.yaml`
one service each, with the AWS resources of each of its deployments (an account
and a region; `alarms` among them) and, under `traffic`, how the traffic generator
drives it (sandbox.traffic.model). `catalog/` holds the same services as Backstage
descriptors. docs/sandbox.md describes the whole.

    from sandbox import estate
    estate.accounts()            # (Account(name="meridian-prod", id="123456789012", ...), ...)
    estate.service("orders-api").tags   # {"service": "orders-api", "team": "team-orders", "env": "prod"}

Compensating states of the order saga follow one naming rule: a state that
undoes the forward step X is named `Compensate` + X (COMPENSATION_PREFIX) and its
Comment starts with "Compensation for X".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ESTATE_DIR = Path(__file__).resolve().parent
CATALOG_DIR = ESTATE_DIR / "catalog"
COMPENSATION_PREFIX = "Compensate"

# What a deployment may hold; sandbox.seed creates each kind.
RESOURCE_KINDS = (
    "vpcs",
    "ecs_clusters",
    "cloudmap_namespaces",
    "dynamodb_tables",
    "sqs_queues",
    "sns_topics",
    "lambda_functions",
    "ecs_services",
    "state_machines",
    "event_buses",
    "rest_apis",
    "alarms",
)


class EstateError(ValueError):
    """The estate's YAML files contradict themselves."""


@dataclass(frozen=True)
class Account:
    name: str
    id: str
    description: str
    role_arn: str | None = None  # None: the portal's own credentials act in this account
    external_id: str | None = None
    admin_role_arn: str | None = None  # what the seed assumes to provision the account


@dataclass(frozen=True)
class Team:
    name: str
    title: str
    description: str
    email: str


@dataclass(frozen=True)
class System:
    name: str
    title: str
    owner: str
    description: str


@dataclass(frozen=True)
class Deployment:
    account: Account
    region: str
    resources: dict[str, list[Any]]


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    system: str
    type: str
    description: str
    env: str
    deployments: tuple[Deployment, ...]
    # How the traffic generator drives it (sandbox.traffic.model reads it); empty for infrastructure.
    traffic: dict[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, str]:
        return {"service": self.name, "team": self.team, "env": self.env}


@dataclass(frozen=True)
class Estate:
    env: str
    accounts: tuple[Account, ...]
    regions: tuple[str, ...]
    teams: tuple[Team, ...]
    systems: tuple[System, ...]
    services: tuple[Service, ...]


@cache
def load() -> Estate:
    root = yaml.safe_load((ESTATE_DIR / "estate.yaml").read_text())
    accounts = tuple(Account(**item) for item in root["accounts"])
    by_name = {account.name: account for account in accounts}
    regions = tuple(root["regions"])
    teams = tuple(Team(**item) for item in root["teams"])
    systems = tuple(System(**item) for item in root["systems"])
    services = tuple(
        _service(path, root["env"], by_name, regions, {t.name for t in teams}, {s.name for s in systems})
        for path in sorted((ESTATE_DIR / "services").glob("*.yaml"))
    )
    return Estate(root["env"], accounts, regions, teams, systems, services)


def _service(path: Path, env: str, accounts: dict, regions: tuple, teams: set, systems: set) -> Service:
    data = yaml.safe_load(path.read_text())
    if data["name"] != path.stem:
        raise EstateError(f"{path.name}: the file must be named after its service, {data['name']!r}")
    if data["team"] not in teams or data["system"] not in systems:
        raise EstateError(f"{path.name}: unknown team {data['team']!r} or system {data['system']!r}")
    deployments = []
    for item in data["deployments"]:
        account_name, region = item.pop("account"), item.pop("region")
        unknown = set(item) - set(RESOURCE_KINDS)
        if account_name not in accounts or region not in regions or unknown:
            raise EstateError(f"{path.name}: bad account {account_name!r}, region {region!r} or kinds {unknown}")
        deployments.append(Deployment(accounts[account_name], region, item))
    return Service(
        name=data["name"],
        team=data["team"],
        system=data["system"],
        type=data["type"],
        description=data["description"].strip(),
        env=env,
        deployments=tuple(deployments),
        traffic=data.get("traffic") or {},
    )


def accounts() -> tuple[Account, ...]:
    return load().accounts


def account(name_or_id: str) -> Account:
    return next(a for a in load().accounts if name_or_id in (a.name, a.id))


def regions() -> tuple[str, ...]:
    return load().regions


def teams() -> tuple[Team, ...]:
    return load().teams


def systems() -> tuple[System, ...]:
    return load().systems


def services() -> tuple[Service, ...]:
    return load().services


def service(name: str) -> Service:
    return next(s for s in load().services if s.name == name)


def catalog_files() -> list[Path]:
    """The Backstage descriptor files, for the catalog's import."""
    return sorted(CATALOG_DIR.rglob("*.yaml"))
