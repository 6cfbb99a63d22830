"""Catalog pages, for each role: the list (facets, search, sort, pages, htmx, invalid filters, query counts),
the entity page and its tabs, editing and deleting, the upload page, and the team page's part."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import truncatechars
from django.urls import reverse

from audit.models import AuditEvent
from catalog import services
from catalog.definitions import pygments_css, render_definition
from catalog.graph_figure import FigureEdge, FigureNode, dependency_figure
from catalog.models import Entity
from catalog.tabs import EntityTab, register_tab, unregister_tab
from catalog.templatetags.catalog_ui import clip, entity_path, team_url
from portal.actors import Actor
from portal.models import Role
from tests.catalog.facet_queries import facet_queries
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = Actor.for_system("test")

ORDERS_OPENAPI = """openapi: 3.0.3
info: {title: Orders API, version: 1.0.0}
paths:
  /orders:
    post:
      summary: Place an order
      responses: {'201': {description: OK}}
"""
GREETER_PROTO = 'syntax = "proto3";\nservice Greeter { rpc SayHello (HelloRequest) returns (HelloReply); }\n'


def doc(kind, name, *, metadata=None, **spec):
    body = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **(metadata or {})}}
    if spec or kind not in ("Group", "User"):
        body["spec"] = spec
    return body


def create(document: dict) -> Entity:
    return services.entity_create(actor=SYSTEM, document=document)


@pytest.fixture
def people(orders, payments):
    return {
        "viewer": MembershipFactory(team=orders, user=UserFactory(username="vera"), role=Role.VIEWER).user,
        "maintainer": MembershipFactory(team=orders, user=UserFactory(username="max"), role=Role.MAINTAINER).user,
        # Maintains ANOTHER team: may not touch the orders team's entities.
        "outsider": MembershipFactory(team=payments, user=UserFactory(username="otto"), role=Role.MAINTAINER).user,
        "portal_admin": UserFactory(username="root", is_superuser=True, is_staff=True),
        "anonymous": None,
    }


@pytest.fixture
def estate(orders, payments):
    """A small commerce estate: a service with a provided OpenAPI API, a consumed gRPC API, a dependency on
    another service and on a table, an unresolved dependency, and a consumer of its API."""
    owner = {"owner": "group:team-orders", "lifecycle": "production", "system": "commerce"}
    entities = {
        "group": create(doc("Group", "team-orders", type="team", children=[])),
        "system": create(doc("System", "commerce", owner="group:team-orders")),
        "orders_api": create(
            doc("API", "orders", metadata={"title": "Orders API"}, type="openapi", definition=ORDERS_OPENAPI, **owner)
        ),
        "greeter": create(doc("API", "greeter", type="grpc", definition=GREETER_PROTO, **owner)),
        "saga": create(doc("Component", "order-saga", type="service", **owner)),
        "table": create(
            doc(
                "Resource",
                "orders-table",
                metadata={"annotations": {"aws.amazon.com/arn": "arn:aws:dynamodb:eu-west-1:1:table/orders"}},
                type="dynamodb-table",
                **owner,
            )
        ),
        "service": create(
            doc(
                "Component",
                "orders-api",
                metadata={
                    "description": "Takes and tracks customer orders.",
                    "tags": ["ecs-fargate", "python"],
                    "links": [
                        {"url": "https://runbooks.example.com/orders", "title": "Runbook"},
                        {"url": "javascript:alert(1)", "title": "Sneaky"},
                    ],
                    "labels": {"tier": "1"},
                    "annotations": {"meridian.io/aws-service-tag": "orders-api"},
                },
                type="service",
                providesApis=["orders"],
                consumesApis=["greeter", "missing-api"],
                dependsOn=["component:order-saga", "resource:orders-table", "component:not-yet-there"],
                **owner,
            )
        ),
        "storefront": create(
            doc(
                "Component",
                "storefront",
                type="website",
                lifecycle="production",
                owner="group:team-payments",
                consumesApis=["orders"],
            )
        ),
    }
    return entities


def url(entity: Entity, tab: str = "") -> str:
    if tab:
        return reverse("catalog:entity_tab", args=[entity.namespace, entity.kind_key, entity.name, tab])
    return reverse("catalog:entity", args=[entity.namespace, entity.kind_key, entity.name])


def rows(response) -> list[str]:
    return re.findall(r'data-testid="catalog-row" data-ref="([^"]+)"', response.content.decode())


def facet_counts(response) -> dict[str, dict[str, int]]:
    return {g["name"]: {v["value"]: v["count"] for v in g["values"]} for g in response.context["facet_groups"]}


def sidebar_values(response, facet: str) -> dict[str, tuple[str, bool]]:
    """A facet's values as the sidebar's HTML shows them: value -> (count, checked)."""
    html = response.content.decode()
    start = html.index(f'data-testid="facet-{facet}"')
    group = html[start : html.index("</fieldset>", start)]
    found = re.findall(r'value="([^"]*)" id="[^"]*"( checked)?>.*?data-testid="facet-count">(\d+)<', group, re.S)
    return {value: (count, bool(checked)) for value, checked, count in found}


# --- the list -----------------------------------------------------------------------------------------------


def test_the_catalog_is_for_people_signed_in(client_as):
    response = client_as("anonymous").get(reverse("catalog:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_list_opens_on_components_with_the_other_kinds_a_tab_away(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"))
    assert response.status_code == 200
    assert sorted(rows(response)) == [
        "component:default/order-saga",
        "component:default/orders-api",
        "component:default/storefront",
    ]
    tabs = [(tab["label"], tab["count"], tab["active"]) for tab in response.context["kind_tabs"]]
    assert tabs == [
        ("Components", 3, True),
        ("APIs", 2, False),
        ("Systems", 1, False),
        ("Resources", 1, False),
        ("Groups", 1, False),
        ("All", 8, False),
    ]
    html = response.content.decode()
    assert 'data-kind="resource"' in html and 'href="?kind=resource"' in html and 'href="?kind="' in html
    # The filter form always sends kind, so that unticking every kind shows every kind, not Components again.
    assert '<input type="hidden" name="kind" value="">' in html
    resources = client_as("viewer").get(reverse("catalog:index"), {"kind": "resource"})
    assert rows(resources) == ["resource:default/orders-table"]
    assert [tab["label"] for tab in resources.context["kind_tabs"] if tab["active"]] == ["Resources"]


def test_the_list_shows_every_entity_with_facet_counts(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"), {"kind": ""})
    assert response.status_code == 200
    assert [tab["label"] for tab in response.context["kind_tabs"] if tab["active"]] == ["All"]
    assert len(rows(response)) == 8
    facets = {
        group["name"]: {v["value"]: v["count"] for v in group["values"]} for group in response.context["facet_groups"]
    }
    assert facets["kind"] == {"component": 3, "api": 2, "group": 1, "system": 1, "resource": 1}
    assert facets["owner"] == {"group:default/team-orders": 6, "group:default/team-payments": 1}
    assert facets["tag"] == {"ecs-fargate": 1, "python": 1}
    assert response.context["page"].paginator.count == 8
    assert "{#" not in response.content.decode()  # a template comment Django did not take for one
    # The main navigation lights up the catalog.
    assert 'class="nav-link active" href="/catalog/"' in response.content.decode()


def test_a_facet_narrows_the_list_and_keeps_the_other_kinds_countable(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"), {"kind": "api"})
    assert sorted(rows(response)) == ["api:default/greeter", "api:default/orders"]
    kinds = next(g for g in response.context["facet_groups"] if g["name"] == "kind")["values"]
    assert {v["value"]: (v["count"], v["checked"]) for v in kinds}["component"] == (3, False)
    assert {v["value"]: (v["count"], v["checked"]) for v in kinds}["api"] == (2, True)
    assert response.context["page"].paginator.count == 2
    assert 'value="api" id="f-kind-' in response.content.decode()


def test_search_and_facets_combine(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"), {"q": "orders", "kind": "component"})
    assert rows(response) == ["component:default/orders-api"]
    response = client_as("viewer").get(reverse("catalog:index"), {"q": "fargate"})
    assert rows(response) == ["component:default/orders-api"]


def test_sorting(client_as, estate):
    names = rows(client_as("viewer").get(reverse("catalog:index"), {"sort": "-name", "kind": "component"}))
    assert names == ["component:default/storefront", "component:default/orders-api", "component:default/order-saga"]


def test_search_ranks_name_matches_before_title_matches_before_the_rest(client_as, orders):
    owner = {"owner": "group:team-orders", "lifecycle": "production", "type": "service"}
    create(doc("Component", "shipping", metadata={"description": "Ships the orders."}, **owner))
    create(doc("Component", "aardvark", metadata={"description": "Counts orders."}, **owner))
    create(doc("Component", "billing", metadata={"title": "Orders billing"}, **owner))
    create(doc("Component", "orders-api", **owner))
    create(doc("Component", "unrelated", **owner))
    client = client_as("viewer")
    best = client.get(reverse("catalog:index"), {"q": "orders"})
    assert [ref.rpartition("/")[2] for ref in rows(best)] == ["orders-api", "billing", "aardvark", "shipping"]
    assert best.context["sort"] == "relevance" and ("relevance", "Best match") in best.context["sort_choices"]
    by_name = client.get(reverse("catalog:index"), {"q": "orders", "sort": "name"})
    assert [ref.rpartition("/")[2] for ref in rows(by_name)] == ["aardvark", "billing", "orders-api", "shipping"]
    # Without search words there is nothing to rank by: the choice is not offered.
    assert "relevance" not in dict(client.get(reverse("catalog:index")).context["sort_choices"])


def test_a_chosen_value_outside_the_facet_still_shows_checked(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"), {"tag": "no-such-tag"})
    assert rows(response) == []
    tags = next(g for g in response.context["facet_groups"] if g["name"] == "tag")["values"]
    assert tags == [{"value": "no-such-tag", "label": "no-such-tag", "count": 0, "checked": True}]
    assert b'data-testid="no-results"' in response.content


def test_each_facet_lists_its_twenty_most_frequent_values(client_as, orders):
    for n in range(22):
        tags = [f"tag-{n:02d}"] + (["common"] if n < 5 else [])
        create(
            doc("Component", f"svc-{n}", metadata={"tags": tags}, type="service", owner="team-orders", lifecycle="beta")
        )
    response = client_as("viewer").get(reverse("catalog:index"), {"tag": "tag-21"})
    tags = next(g for g in response.context["facet_groups"] if g["name"] == "tag")["values"]
    # Counted with the tag filter (tags combine with AND): only tag-21 remains, chosen and listed.
    assert [(t["value"], t["count"], t["checked"]) for t in tags] == [("tag-21", 1, True)]
    everything = client_as("viewer").get(reverse("catalog:index"))
    tags = next(g for g in everything.context["facet_groups"] if g["name"] == "tag")["values"]
    assert len(tags) == 20 and tags[0] == {"value": "common", "label": "common", "count": 5, "checked": False}
    assert everything.context["page"].paginator.count == 22


@pytest.mark.parametrize(
    ("params", "name"),
    [({"kind": "not a kind"}, "kind"), ({"sort": "colour"}, "sort"), ({"owner": "group:a/b/c"}, "owner")],
)
def test_an_invalid_filter_is_a_clear_message_not_an_error(client_as, estate, params, name):
    response = client_as("viewer").get(reverse("catalog:index"), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="filter-errors"' in body and f"<code>{name}</code>" in body
    # Sent by htmx the message still arrives (htmx swaps only successful answers).
    partial = client_as("viewer").get(reverse("catalog:index"), params, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'data-testid="filter-errors"' in partial.content.decode()


def test_htmx_gets_the_results_alone(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:index"), {"kind": "api"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="catalog-results"')
    assert "<html" not in body and len(rows(response)) == 2


def test_pages_of_fifty(client_as, orders):
    for n in range(55):
        create(doc("Component", f"svc-{n:02d}", type="service", owner="group:team-orders", lifecycle="production"))
    first = client_as("viewer").get(reverse("catalog:index"))
    assert len(rows(first)) == 50 and first.context["page"].paginator.num_pages == 2
    assert b'data-testid="next-page"' in first.content
    second = client_as("viewer").get(reverse("catalog:index"), {"page": "2"})
    assert rows(second) == [f"component:default/svc-{n}" for n in range(50, 55)]
    # A page past the end shows the last page rather than an error.
    assert rows(client_as("viewer").get(reverse("catalog:index"), {"page": "99"})) == rows(second)


@pytest.mark.parametrize("params", [{}, {"kind": "component", "q": "svc"}, {"tag": "blue"}])
def test_the_list_costs_the_same_queries_for_any_page_size(
    client_as, orders, django_assert_num_queries, django_capture_on_commit_callbacks, params
):
    client = client_as("viewer")

    def page(expected_rows: int):
        # 1 session, 2 user, 3 the teams the viewer maintains (may they import?), then the facets: one GROUP BY
        # per facet (kind, type, owner, lifecycle, system, tag; a facet's own filter is left out of its count;
        # fewer on PostgreSQL, see facet_queries), then the user menu's memberships, the page of rows (no COUNT:
        # the kind facet's counts add up to the total), the rows' tags, and the row badges of observability (the
        # components' linked resources, the Resources among the rows; their alarms would be one more, but these
        # rows have no AWS resources): catalog.row_badges.
        # With no kind given the page opens on Components: the kind facet is filtered then too.
        filtered = {*params, "kind"}
        with django_assert_num_queries(3 + facet_queries(*filtered) + 5):
            response = client.get(reverse("catalog:index"), params)
        assert len(rows(response)) == expected_rows

    for n in range(2):
        create(
            doc(
                "Component",
                f"svc-{n}",
                metadata={"tags": ["blue"]},
                type="service",
                owner="group:team-orders",
                lifecycle="beta",
            )
        )
    page(2)
    # The writes' on-commit work runs, as it does outside a test: the catalog changed, so the facets are recounted.
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2, 40):
            create(
                doc(
                    "Component",
                    f"svc-{n}",
                    metadata={"tags": ["blue"]},
                    type="service",
                    owner="group:team-orders",
                    lifecycle="beta",
                )
            )
    page(40)


def test_other_apps_add_badges_to_the_rows(client_as, orders):
    from django.utils.html import format_html

    from catalog.row_badges import RowBadges, register_row_badges, unregister_row_badges

    create(doc("Component", "svc-a", type="service", owner="group:team-orders", lifecycle="beta"))
    create(doc("Component", "svc-b", type="service", owner="group:team-orders", lifecycle="beta"))
    seen = []

    def flags(entities):
        seen.append(len(entities))  # one call for the whole page
        return {e.pk: format_html('<span data-testid="flag">{}</span>', e.name) for e in entities if e.name == "svc-b"}

    register_row_badges(RowBadges(key="test-flags", provider=flags))
    try:
        body = client_as("viewer").get(reverse("catalog:index"), {"kind": "component"}).content.decode()
    finally:
        unregister_row_badges("test-flags")

    assert seen == [2]
    assert body.count('data-testid="flag"') == 1 and '<span data-testid="flag">svc-b</span>' in body


def test_a_row_shows_its_columns_tags_and_level_without_a_query_of_its_own(
    client_as, orders, django_assert_num_queries
):
    from catalog.scorecards.services import scorecards_compute_entities

    service = create(
        doc(
            "Component",
            "svc-a",
            metadata={"title": "Service A", "description": "Takes orders.", "tags": ["java", "blue"]},
            type="service",
            owner="group:team-orders",
            system="commerce",
            lifecycle="beta",
        )
    )
    scorecards_compute_entities(entity_ids=[service.pk])
    client = client_as("viewer")
    client.get(reverse("catalog:index"), {"kind": "component"})  # the facets counted and cached

    # As test_facet_counts_are_reused_until_the_catalog_changes: 6 queries whatever the row shows (the page
    # reads only the columns it shows: catalog.views.ROW_FIELDS; no row loads the rest).
    with django_assert_num_queries(6):
        body = client.get(reverse("catalog:index"), {"kind": "component"}).content.decode()

    row = body[body.index('data-ref="component:default/svc-a"') : body.index("</tr>", body.index("svc-a"))]
    assert '<a href="/catalog/default/component/svc-a/" class="fw-semibold">Service A</a>' in row
    assert "data-level=" in row and "Takes orders." in row
    assert '<a href="/teams/team-orders/">Orders</a>' in row
    assert '<a href="/catalog/default/system/commerce/">system:commerce</a>' in row
    assert sorted(re.findall(r'border me-1">([^<]+)</span>', row)) == ["blue", "java"]


def test_facet_counts_are_reused_until_the_catalog_changes(
    client_as, orders, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = client_as("viewer")
    with django_capture_on_commit_callbacks(execute=True):
        create(doc("Component", "svc-a", type="service", owner="group:team-orders", lifecycle="beta"))
    first = client.get(reverse("catalog:index"), {"kind": "component"})
    # The same filters again: 1 session, 2 user, 3 import check, 4 menu, 5 rows, 6 tags; no facet counted, and
    # the rows' alarm badges are cached too, until the catalog or the alarms change (observability.metrics.row_badges).
    with django_assert_num_queries(6):
        again = client.get(reverse("catalog:index"), {"kind": "component"})
    assert facet_counts(again) == facet_counts(first)
    assert sidebar_values(again, "type") == {"service": ("1", False)}
    with django_capture_on_commit_callbacks(execute=True):
        create(doc("Component", "svc-b", type="worker", owner="group:team-orders", lifecycle="beta"))
    changed = client.get(reverse("catalog:index"), {"kind": "component"})
    assert facet_counts(changed)["type"] == {"service": 1, "worker": 1}
    # The sidebar's HTML is cached with the counts (templates/catalog/_results.html): it changes with them, and
    # with the filters (a chosen value is checked).
    assert sidebar_values(changed, "type") == {"service": ("1", False), "worker": ("1", False)}
    chosen = client.get(reverse("catalog:index"), {"kind": "component", "type": "worker"})
    assert sidebar_values(chosen, "type") == {"service": ("1", False), "worker": ("1", True)}


# --- the entity page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "kind", "name", "tab"),
    [
        ("default", "Component", "orders-api", ""),
        ("team-a", "API", "Orders_v2.internal", "definition"),
        ("default", "Template", "a name with spaces & ü", "metrics"),
        ("x", "Resource", "odd:@~!$&'()*+,;=chars%", ""),
    ],
)
def test_entity_links_are_what_reverse_gives(namespace, kind, name, tab):
    # entity_path() builds links without a reverse() per row (the list page's render time); it must not differ.
    if tab:
        expected = reverse("catalog:entity_tab", args=[namespace, kind.lower(), name, tab])
    else:
        expected = reverse("catalog:entity", args=[namespace, kind.lower(), name])

    assert entity_path(namespace, kind, name, tab) == expected


def test_team_links_and_clipped_text_are_what_django_gives(orders):
    assert team_url(orders) == reverse("teams:detail", args=[orders.slug])
    long = "word " * 40
    assert clip(long, 120) == truncatechars(long, 120)
    assert clip("short", 120) == "short" and clip("", 120) == ""


def test_the_overview_shows_the_entity_and_its_relations_both_ways(client_as, estate, orders):
    response = client_as("viewer").get(url(estate["service"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Takes and tracks customer orders." in body
    assert f'href="{reverse("teams:detail", args=["team-orders"])}"' in body  # owner linked to its team
    assert f'href="{url(estate["system"])}"' in body  # system resolved
    assert 'href="https://runbooks.example.com/orders"' in body
    assert 'href="javascript:' not in body  # a link that is not http(s)/mailto is shown as text
    assert "meridian.io/aws-service-tag" in body and "tier" in body and "ecs-fargate" in body
    relations = {(r.type, r.target_ref, r.resolved) for r in response.context["relations"]}
    assert ("dependsOn", "component:default/order-saga", True) in relations
    assert ("dependsOn", "component:default/not-yet-there", False) in relations
    assert ("consumesApi", "api:default/missing-api", False) in relations
    assert body.count('data-testid="unresolved"') == 2
    # The other direction: the storefront consumes the orders API, so the API page lists it.
    api_relations = {
        (r.type, r.target_ref) for r in client_as("viewer").get(url(estate["orders_api"])).context["relations"]
    }
    assert ("apiConsumedBy", "component:default/storefront") in api_relations
    assert ("apiProvidedBy", "component:default/orders-api") in api_relations


def test_a_titled_entity_is_shown_by_its_title_wherever_it_is_named(client_as, estate, people):
    discovered = create(
        doc(
            "Resource",
            "orders-queue-a6978afc",
            metadata={"title": "orders-queue (SQS queue)"},
            type="sqs-queue",
            owner="group:team-orders",
            dependencyOf=["component:orders-api"],
        )
    )
    client = client_as("maintainer")
    service = client.get(url(estate["service"])).content.decode()
    # The relation names the resource by its title, and keeps its unique name in the reference beside it.
    assert re.search(r'href="[^"]*orders-queue-a6978afc/">[^<]*<i[^>]*></i> orders-queue \(SQS queue\)</a>', service)
    assert "resource:orders-queue-a6978afc" in service
    page = client.get(url(discovered)).content.decode()
    assert '<li class="breadcrumb-item active" aria-current="page">orders-queue (SQS queue)</li>' in page
    edit = client.get(reverse("catalog:entity_edit", args=["default", "resource", discovered.name])).content.decode()
    assert ">orders-queue (SQS queue)</a></li>" in edit
    graph = client.get(url(estate["service"], "dependencies")).context["figure"]["data"][1]
    assert "orders-queue (SQS queue)" in graph["text"] and "Orders API" in graph["text"]
    listed = client.get(reverse("catalog:index"), {"kind": "resource"}).content.decode()
    assert ">orders-queue (SQS queue)</a>" in listed


def test_relations_are_grouped_by_type_with_readable_labels(client_as, estate):
    body = client_as("viewer").get(url(estate["service"])).content.decode()
    headings = re.findall(r'data-testid="relation-group">([^<]+)<', body)
    assert headings == ["Consumes API", "Depends on", "Owned by", "Part of", "Provides API"]
    api = client_as("viewer").get(url(estate["orders_api"])).content.decode()
    assert re.findall(r'data-testid="relation-group">([^<]+)<', api) == [
        "API consumed by",
        "API provided by",
        "Owned by",
        "Part of",
    ]


def test_a_group_links_to_its_team(client_as, estate):
    response = client_as("viewer").get(url(estate["group"]))
    assert response.context["group_team"].slug == "team-orders"
    assert f'href="{reverse("teams:detail", args=["team-orders"])}"' in response.content.decode()
    # What the group owns is listed among its relations, the other way round.
    assert ("ownerOf", "component:default/orders-api") in {
        (r.type, r.target_ref) for r in response.context["relations"]
    }


def test_tabs_follow_the_kind(client_as, estate):
    def tabs(entity):
        return [tab.slug for tab in client_as("viewer").get(url(entity)).context["tabs"]]

    # Metrics and X-Ray from observability, Audit (every entity) from the audit app.
    assert tabs(estate["service"]) == ["", "dependencies", "apis", "aws", "metrics", "xray", "audit"]
    assert tabs(estate["orders_api"]) == ["", "dependencies", "apis", "audit"]
    assert tabs(estate["group"]) == ["", "audit"]
    assert client_as("viewer").get(url(estate["group"], "apis")).status_code == 404
    assert client_as("viewer").get(url(estate["service"], "nonsense")).status_code == 404
    missing = reverse("catalog:entity", args=["default", "component", "nope"])
    assert client_as("viewer").get(missing).status_code == 404


def test_the_entity_page_costs_the_same_queries_for_many_relations(client_as, estate, django_assert_num_queries):
    client = client_as("viewer")

    def overview():
        # 1 session, 2 user, 3 the entity with its team and location, 4 can(): the viewer's role in the owning
        # team, 5 its relations both ways with both ends, 6 the user menu's memberships, 7 the header's alarm
        # badge (observability: its AWS resources; their alarms are not read when none has an ARN), 8 the header's
        # open saga alerts (observability), 9-13 the live scorecard card: one query per context provider of the
        # rules (owner, APIs, resources, relations, and observability's golden-signal alarms).
        with django_assert_num_queries(13):
            return client.get(url(estate["service"]))

    before = len(overview().context["relations"])
    for n in range(10):
        create(
            doc(
                "Component",
                f"client-{n}",
                type="service",
                lifecycle="beta",
                owner="group:team-orders",
                dependsOn=["component:orders-api"],
            )
        )
    assert len(overview().context["relations"]) == before + 10


def test_the_dependency_graph_links_each_node_to_its_page(client_as, estate):
    response = client_as("viewer").get(url(estate["service"], "dependencies"))
    assert response.status_code == 200
    figure = response.context["figure"]
    nodes = figure["data"][1]
    links = dict(zip(nodes["text"], nodes["customdata"], strict=True))
    assert links["component:order-saga"] == url(estate["saga"])
    assert links["resource:orders-table"] == url(estate["table"])
    assert links["api:greeter"] == url(estate["greeter"])
    assert links["Orders API"] == url(estate["orders_api"])  # titled: named by its title
    assert links["component:not-yet-there"] == ""  # unresolved: nowhere to go
    # Ownership is not a dependency: the team is not in the graph.
    assert "group:team-orders" not in links
    body = response.content.decode()
    assert 'id="dependency-figure"' in body and "vendor/plotly/plotly.min.js" in body
    x = dict(zip(nodes["text"], nodes["x"], strict=True))
    # Consumer -> API -> provider, left to right; the service in the middle.
    assert x["component:storefront"] < x["Orders API"] < x["component:orders-api"] < x["component:order-saga"]


def test_the_graph_depth_is_limited_with_a_message(client_as, estate):
    client = client_as("viewer")
    response = client.get(url(estate["service"], "dependencies"), {"depth": "9"})
    assert response.context["depth"] == 3 and "Depth goes from 1 to 3" in response.content.decode()
    response = client.get(url(estate["service"], "dependencies"), {"depth": "lots"})
    assert response.context["depth"] == 2 and 'data-testid="depth-error"' in response.content.decode()
    one = client.get(url(estate["service"], "dependencies"), {"depth": "1"}).context["graph_nodes"]
    assert "component:default/storefront" not in {node.key for node in one}  # two steps away


def test_an_openapi_definition_is_rendered_by_swagger_ui_from_local_files(client_as, estate):
    response = client_as("viewer").get(url(estate["orders_api"], "apis"))
    body = response.content.decode()
    assert 'data-swagger-spec="api-definition"' in body
    spec = json.loads(re.search(r'<script id="api-definition" type="application/json">(.*?)</script>', body, re.S)[1])
    assert spec["paths"]["/orders"]["post"]["summary"] == "Place an order"
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "//cdn" not in body and "unpkg" not in body


def test_a_grpc_definition_is_highlighted_source(client_as, estate):
    body = client_as("viewer").get(url(estate["greeter"], "apis")).content.decode()
    assert 'data-testid="definition-source"' in body and '<span class="kd">service</span>' in body
    assert "swagger-ui-bundle.js" not in body  # Swagger UI only where it is needed


def test_a_component_lists_the_apis_it_provides_and_consumes(client_as, estate):
    client = client_as("viewer")
    response = client.get(url(estate["service"], "apis"))
    groups = {
        group["slug"]: [(api["key"], api["resolved"]) for api in group["apis"]]
        for group in response.context["api_groups"]
    }
    assert groups == {
        "provided": [("api:default/orders", True)],
        "consumed": [("api:default/greeter", True), ("api:default/missing-api", False)],
    }
    assert response.context["selected_api"] == estate["orders_api"]
    chosen = client.get(url(estate["service"], "apis"), {"api": "api:default/greeter"})
    assert chosen.context["selected_api"] == estate["greeter"] and chosen.context["definition"].viewer == "source"


def test_the_raw_definition(client_as, estate):
    response = client_as("viewer").get(reverse("catalog:entity_definition", args=["default", "api", "orders"]))
    assert response.status_code == 200 and response.content.decode() == ORDERS_OPENAPI
    assert (
        client_as("viewer")
        .get(reverse("catalog:entity_definition", args=["default", "component", "orders-api"]))
        .status_code
        == 404
    )


def test_the_aws_tab_shows_linked_resources(client_as, estate):
    # Discovery links what it finds tagged service=orders-api through the resource's spec.dependencyOf.
    queue = create(
        doc(
            "Resource",
            "orders-queue-1a2b3c4d",
            metadata={
                "annotations": {
                    "amazonaws.com/arn": "arn:aws:sqs:eu-west-1:111122223333:orders-queue",
                    "amazonaws.com/account-id": "111122223333",
                    "meridian.io/aws-region": "eu-west-1",
                }
            },
            type="sqs-queue",
            owner="group:team-orders",
            dependencyOf=["component:orders-api"],
        )
    )
    response = client_as("viewer").get(url(estate["service"], "aws"))
    resources = [(r["entity"], r["arn"], r["region"], r["linked_by"]) for r in response.context["resources"]]
    assert resources == [
        (estate["table"], "arn:aws:dynamodb:eu-west-1:1:table/orders", "", ["its spec.dependsOn"]),
        (queue, "arn:aws:sqs:eu-west-1:111122223333:orders-queue", "eu-west-1", ["the resource's spec.dependencyOf"]),
    ]
    assert response.content.decode().count('data-testid="aws-resource"') == 2
    lonely = client_as("viewer").get(url(estate["saga"], "aws"))
    assert b'data-testid="aws-resources-empty"' in lonely.content


def test_other_apps_add_tabs_through_the_registry(client_as, estate):
    register_tab(
        EntityTab(
            slug="example",
            label="Example",
            icon="bi-graph-up",
            order=500,
            template="catalog/tabs/aws_resources.html",
            context=lambda request, entity: {"seen": entity.name, "resources": []},
            applies=lambda entity: entity.kind_key == "component",
        )
    )
    try:
        assert [t.slug for t in client_as("viewer").get(url(estate["service"])).context["tabs"]][-1] == "example"
        response = client_as("viewer").get(url(estate["service"], "example"))
        assert response.status_code == 200 and response.context["seen"] == "orders-api"
        assert client_as("viewer").get(url(estate["orders_api"], "example")).status_code == 404
        with pytest.raises(ValueError, match="already registered"):
            register_tab(EntityTab(slug="example", label="x", icon="", template="", context=dict))
        with pytest.raises(ValueError, match="taken"):
            register_tab(EntityTab(slug="edit", label="x", icon="", template="", context=dict))
    finally:
        unregister_tab("example")


# --- editing and deleting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 403), ("outsider", 403), ("maintainer", 200), ("portal_admin", 200)]
)
def test_edit_is_for_maintainers_of_the_owner_and_admins(client_as, estate, who, status):
    client = client_as(who)
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    response = client.get(edit)
    assert response.status_code == status
    page = client.get(url(estate["service"])).content.decode()
    assert ('data-testid="entity-edit"' in page) is (status == 200)
    if status == 200:
        assert "name: orders-api" in response.context["form"].initial["document"]
    refused = client.post(edit, {"document": "kind: Component", "etag": estate["service"].etag})
    assert refused.status_code == (403 if status == 403 else 400)


def _edited(entity: Entity, description: str) -> str:
    document = dict(entity.document)
    document["metadata"] = {**document["metadata"], "description": description}
    import yaml

    return yaml.safe_dump(document, sort_keys=False)


def test_an_edit_is_saved_and_audited_with_before_and_after(client_as, estate):
    service = estate["service"]
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    response = client_as("maintainer").post(
        edit, {"document": _edited(service, "Now with refunds."), "etag": service.etag}
    )
    assert response.status_code == 302 and response["Location"] == url(service)
    service.refresh_from_db()
    assert service.description == "Now with refunds."
    event = AuditEvent.objects.filter(target_type="catalog.entity", target_id=str(service.pk)).first()
    assert event.actor_label == "max"
    assert event.before["metadata"]["description"] == "Takes and tracks customer orders."
    assert event.after["metadata"]["description"] == "Now with refunds."


def test_a_stale_edit_is_a_conflict_and_changes_nothing(client_as, estate):
    service = estate["service"]
    stale = service.etag
    services.entity_update(
        actor=SYSTEM, entity=service, document={**service.document, "metadata": {**service.metadata, "title": "Orders"}}
    )
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    response = client_as("maintainer").post(edit, {"document": _edited(service, "Mine"), "etag": stale})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="edit-conflict"' in body and "title: Orders" in body  # the version saved now
    service.refresh_from_db()
    assert service.description == "Takes and tracks customer orders."
    # The form now carries the current version: saving the merged text again goes through.
    assert response.context["form"]["etag"].value() == service.etag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: [unclosed", "yaml"),
        ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: bad name}\nspec: {}\n", "metadata.name"),
        ("- just\n- a list\n", "YAML mapping"),
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: renamed}\n"
            "spec: {type: service, owner: team-orders, lifecycle: production}\n",
            "cannot change",
        ),
    ],
)
def test_an_invalid_edit_says_why_and_changes_nothing(client_as, estate, text, expected):
    service = estate["service"]
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    response = client_as("maintainer").post(edit, {"document": text, "etag": service.etag})
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert Entity.objects.get(pk=service.pk).etag == service.etag


def test_an_edit_with_an_unclosed_quote_names_the_line_where_it_starts(client_as, estate):
    service = estate["service"]
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    text = 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: "orders-api\nspec: {}\n'
    response = client_as("maintainer").post(edit, {"document": text, "etag": service.etag})
    assert response.status_code == 400
    page = response.content.decode()
    assert "line 4, column 9: a quoted string starts here and is not closed" in page
    assert "line 6" not in page  # the end of the text, where the parser noticed


@pytest.mark.parametrize(("who", "allowed"), [("maintainer", False), ("portal_admin", True)])
def test_giving_an_entity_to_a_team_one_does_not_maintain_is_refused(client_as, estate, who, allowed):
    service = estate["service"]
    entity_events = AuditEvent.objects.filter(target_type="catalog.entity")
    events = entity_events.count()
    text = _edited(service, "Takes and tracks customer orders.").replace("group:team-orders", "group:team-payments")
    edit = reverse("catalog:entity_edit", args=["default", "component", "orders-api"])
    response = client_as(who).post(edit, {"document": text, "etag": service.etag})
    service.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and service.owner_key == "group:default/team-payments"
    else:
        assert response.status_code == 403 and "You do not maintain Payments" in response.content.decode()
        assert service.owner_key == "group:default/team-orders"
        assert entity_events.count() == events  # the update and its audit event rolled back together


@pytest.mark.parametrize(
    ("who", "allowed"), [("viewer", False), ("outsider", False), ("maintainer", True), ("portal_admin", True)]
)
def test_delete_is_for_maintainers_of_the_owner_and_admins(client_as, estate, who, allowed):
    delete = reverse("catalog:entity_delete", args=["default", "component", "order-saga"])
    client = client_as(who)
    assert client.get(delete).status_code == (200 if allowed else 403)
    response = client.post(delete)
    assert response.status_code == (302 if allowed else 403)
    assert Entity.objects.filter(ref_key="component:default/order-saga").exists() is not allowed
    if allowed:
        assert AuditEvent.objects.filter(action="entity.delete", target_repr="component:default/order-saga").exists()


# --- import -------------------------------------------------------------------------------------------------

UPLOAD = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invoices
spec:
  type: service
  lifecycle: production
  owner: group:team-orders
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invalid component
spec:
  type: service
  lifecycle: production
  owner: group:team-orders
"""


@pytest.mark.parametrize(
    ("who", "allowed"), [("viewer", False), ("maintainer", True), ("outsider", True), ("portal_admin", True)]
)
def test_the_upload_page_is_for_maintainers_and_admins(client_as, people, who, allowed):
    assert client_as(who).get(reverse("catalog:import")).status_code == (200 if allowed else 403)
    listed = client_as(who).get(reverse("catalog:index")).content.decode()
    assert ('data-testid="catalog-import"' in listed) is allowed


def test_an_upload_is_imported_and_reported(client_as, people):
    upload = SimpleUploadedFile("catalog-info.yaml", UPLOAD, content_type="application/x-yaml")
    response = client_as("maintainer").post(reverse("catalog:import"), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.created == 1 and Entity.objects.filter(ref_key="component:default/invoices").exists()
    body = response.content.decode()
    assert "component:default/invoices" in body
    problem = report.all_problems[0]
    assert (problem.index, problem.field) == (1, "metadata.name")
    assert 'data-testid="import-problem"' in body and "<code>metadata.name</code>" in body
    # Again: nothing changes.
    again = client_as("maintainer").post(
        reverse("catalog:import"), {"file": SimpleUploadedFile("catalog-info.yaml", UPLOAD)}
    )
    assert again.context["report"].unchanged == 1 and again.context["report"].created == 0


def test_an_upload_touching_another_teams_entities_is_refused_whole(client_as, people):
    entity_events = AuditEvent.objects.filter(target_type="catalog.entity")
    entities, events = Entity.objects.count(), entity_events.count()
    upload = SimpleUploadedFile("catalog-info.yaml", UPLOAD.split(b"---")[0])  # invoices, owned by team-orders
    response = client_as("outsider").post(reverse("catalog:import"), {"file": upload})
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="import-forbidden"' in body and "component:default/invoices" in body
    assert (Entity.objects.count(), entity_events.count()) == (entities, events)
    # A portal admin may import anyone's.
    upload = SimpleUploadedFile("catalog-info.yaml", UPLOAD.split(b"---")[0])
    assert client_as("portal_admin").post(reverse("catalog:import"), {"file": upload}).context["report"].created == 1


def test_an_upload_over_the_limit_is_refused_before_reading(client_as, people, settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 100
    response = client_as("maintainer").post(reverse("catalog:import"), {"file": SimpleUploadedFile("big.yaml", UPLOAD)})
    assert response.status_code == 400 and "import limit" in response.content.decode()
    assert not Entity.objects.exists()


# --- the team page ------------------------------------------------------------------------------------------


def test_the_team_page_lists_what_the_team_owns(client_as, estate):
    response = client_as("outsider").get(reverse("teams:detail", args=["team-orders"]))
    assert response.status_code == 200
    assert response.context["owned_count"] == 6
    body = response.content.decode()
    assert body.count('data-testid="team-entity"') == 6
    assert "/catalog/?owner=group%3Adefault/team-orders&amp;kind=" in body
    # The link gives the same list in the catalog: every kind, not the list's default of Components.
    listed = client_as("outsider").get(reverse("catalog:index"), {"owner": "group:default/team-orders", "kind": ""})
    assert listed.context["page"].paginator.count == 6


def test_the_home_page_lists_the_services_of_the_users_teams(client_as, estate, people):
    home = client_as("viewer").get("/").content.decode()
    assert re.findall(r'data-testid="home-service"><a href="[^"]+"><i[^>]*></i> ([^<]+)</a>', home) == [
        "order-saga",
        "orders-api",
    ]
    assert "/catalog/?owner=group%3Adefault/team-orders&amp;kind=component" in home
    outsider = client_as("outsider").get("/").content.decode()
    assert re.findall(r'data-testid="home-service"><a href="[^"]+"><i[^>]*></i> ([^<]+)</a>', outsider) == [
        "storefront"
    ]
    # Someone in no team is told how to join one, and no panel about teams is shown.
    loner = client_as("portal_admin").get("/").content.decode()
    assert 'data-testid="home-panels"' not in loner and "You are not in a team yet" in loner


# --- rendering helpers --------------------------------------------------------------------------------------


def test_the_pygments_stylesheet_is_in_step():
    from django.contrib.staticfiles import finders

    with open(finders.find("catalog/pygments.css")) as handle:
        assert pygments_css() in handle.read()


def test_a_yaml_bomb_in_an_openapi_definition_is_not_expanded():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for n, name in enumerate("bcdefgh"):
        previous = "abcdefgh"[n]
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    rendered = render_definition({"type": "openapi", "definition": "\n".join(levels)})
    assert rendered.viewer == "source" and "too large" in rendered.notice


def test_an_openapi_definition_that_is_not_yaml_is_shown_as_source_with_the_reason():
    rendered = render_definition({"type": "openapi", "definition": "openapi: [3"})
    assert rendered.viewer == "source" and "not valid YAML" in rendered.notice


def test_the_figure_lays_out_dependants_left_and_dependencies_right():
    nodes = [
        FigureNode("component:default/a", "Component", "a", url="/a", root=True),
        FigureNode("component:default/b", "Component", "b", url="/b"),
        FigureNode("component:default/c", "Component", "c", url="/c"),
    ]
    edges = [
        FigureEdge("component:default/a", "component:default/b", "dependsOn"),
        FigureEdge("component:default/a", "component:default/c", "dependencyOf"),
    ]
    trace = dependency_figure(nodes, edges)["data"][1]
    x = dict(zip(trace["text"], trace["x"], strict=True))
    assert x == {"component:a": 0.0, "component:b": 1.0, "component:c": -1.0}
    assert dependency_figure([], []) == {"data": [], "layout": {}}
