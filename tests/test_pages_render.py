"""Every page of the demo renders: a crawl of the portal as a portal admin over an estate seeded like `make run`'s
(the sandbox's AWS, the demo's catalog files, AWS discovery, the CloudWatch sync), from the home page through
every link of the navigation and of each page, and every tab of the entity pages. It fails on a server error and
on template syntax left in the HTML (`{#`, `{%`, `{{`: a comment or tag Django did not take for one, such as a
multi-line {# #}). tests/test_templates.py guards the template sources; this guards what people get."""

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from catalog import tasks as catalog_tasks
from catalog.importing import import_paths
from catalog.models import Entity
from observability.metrics import services as metrics_services
from portal.actors import Actor
from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions
from portal.aws.services import parse_account_spec
from portal.models import Role, Team
from sandbox.estate import CATALOG_DIR
from sandbox.management.commands.run_local import DEMO_AWS_ACCOUNTS
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE_SYNTAX = re.compile(r"\{[#%{]")
_HREF = re.compile(r'href="(/[^"#]*)')
# Not pages of the portal's own templates (the admin, the API and its schema viewers, static files), or not
# something a GET should do (signing out).
SKIPPED = ("/admin/", "/api/", "/static/", "/accounts/logout", "/oidc/")
# Entity pages visited per kind and spec.type, each with all its tabs: the demo has a hundred discovered
# resources, and one of each type renders what the others do.
ENTITIES_PER_TYPE = 2
MAX_PAGES = 800


@pytest.fixture
def demo(sandbox_estate, settings):
    """The sandbox seeded with the demo estate, its accounts as run_local makes them, the demo's catalog files
    imported, AWS discovery and the CloudWatch sync run, and a portal admin in the orders team."""
    cache.clear()
    settings.AWS_ENDPOINT_URL = sandbox_estate
    for spec in DEMO_AWS_ACCOUNTS.split(","):
        AwsAccount.objects.create(**parse_account_spec(spec))
    report = import_paths(actor=Actor.for_system("test"), paths=[Path(CATALOG_DIR)])
    assert report.ok, report.as_text()
    for account, region in enabled_account_regions():
        catalog_tasks.catalog_discover(account.pk, region)
        metrics_services.cloudwatch_sync(account=account, region=region)
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    MembershipFactory(team=Team.objects.get(slug="team-orders"), user=admin, role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    return client


def _entity_key(path: str) -> tuple | None:
    """(kind, spec.type) of an entity page's entity, or None for a page that is not one."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[0] != "catalog" or parts[1] in ("import",):
        return None
    namespace, kind, name = parts[1:4]
    spec_type = Entity.objects.filter(namespace=namespace, kind_key=kind, name=name).values_list("spec_type").first()
    return (kind, spec_type[0] if spec_type else "")


def _worth_following(url: str) -> bool:
    path = urlsplit(url).path
    if path.startswith(SKIPPED):
        return False
    # Of the catalog list's links, the kind tabs: the other filters and pages render the same template.
    query = urlsplit(url).query
    return not query or (path == "/catalog/" and re.fullmatch(r"kind=[a-z]*", query) is not None)


def test_every_page_of_the_demo_renders_without_errors_or_template_syntax(demo):
    seen, queue, problems = {"/"}, deque(["/"]), []
    entity_pages: dict[tuple, set[str]] = {}
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        response = demo.get(url)
        visited += 1
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
            continue
        if response.status_code in (301, 302) or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        if match := TEMPLATE_SYNTAX.search(html):
            around = html[max(0, match.start() - 80) : match.end() + 80]
            problems.append(f"{url}: template syntax in the page: {around!r}")
        for link in _HREF.findall(html):
            link = link.replace("&amp;", "&")
            if link in seen or not _worth_following(link):
                continue
            key = _entity_key(urlsplit(link).path)
            if key is not None:
                entity = "/".join(urlsplit(link).path.strip("/").split("/")[:4])
                same_type = entity_pages.setdefault(key, set())
                if entity not in same_type and len(same_type) >= ENTITIES_PER_TYPE:
                    continue
                same_type.add(entity)
            seen.add(link)
            queue.append(link)
    assert not problems, "\n".join(problems)
    assert visited < MAX_PAGES, "the crawl was cut: raise MAX_PAGES or narrow what it follows"
    # It did reach what it is for: the navigation's sections, resources found by discovery, and entity tabs.
    assert {"/catalog/", "/observability/", "/teams/"} <= seen
    assert any(kind == "resource" for kind, _ in entity_pages)
    for tab in ("dependencies", "metrics"):
        assert any(url.endswith(f"/{tab}/") for url in seen), tab
