"""Backstage's own example descriptors, and the sandbox's demo estate, import as Backstage would take them."""

from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from catalog.importing import import_paths
from catalog.models import Entity, Location
from portal.actors import Actor
from tests.compat import EXAMPLES, needs_backstage_examples

pytestmark = pytest.mark.django_db

ACTOR = Actor.for_system("test")
ESTATE = Path(settings.BASE_DIR) / "sandbox" / "estate" / "catalog"

# apis/<name>-api.yaml files whose definition is `$text: https://...`.
DEFINITION_ON_OTHER_HOSTS = (
    *("analytics", "aware-core-insight", "aware-producer-service", "mapping", "maps-analytics", "odp-analytics"),
    "workplace",
)
DEFINITION_ON_GITHUB = ("config-schema", "spotify", "wayback-archive", "wayback-search")
SUBSTITUTED_FROM_URLS = DEFINITION_ON_OTHER_HOSTS + DEFINITION_ON_GITHUB
# Every refusal of the folder import, each checked against what Backstage does with the same file.
# (The folder mixes files from many commits: SOURCE.md there says so.)
EXPECTED_PROBLEMS = {
    # Backstage: LocationEntityProcessor emits a location of type "github", which no processor reads
    # ("No processor was able to handle reading of github:..."); the Location entity itself is kept.
    ("acme-corp.yaml", "spec.targets[0]", "location.type-unsupported"),
    # Backstage's API kind schema requires spec.type, lifecycle, owner and definition (old layouts).
    ("hello-world-api.yaml", "spec.lifecycle", "required"),
    ("hello-world-api.yaml", "spec.owner", "required"),
    ("streetlights-api.yaml", "spec.lifecycle", "required"),
    ("streetlights-api.yaml", "spec.owner", "required"),
    ("swapi-graphql.yaml", "spec.lifecycle", "required"),
    ("swapi-graphql.yaml", "spec.owner", "required"),
    ("spotify-api.yaml", "spec.definition", "required"),
    # The file meant to be invalid: a space in its name, and in a tag (Backstage's tag rule refuses it too).
    ("components/invalid-component.yaml", "metadata.name", "name.format"),
    ("components/invalid-component.yaml", "metadata.tags[1]", "tag.format"),
    # An OpenAPI document, not an entity: Backstage refuses it too if it is read as a descriptor
    # (no apiVersion/kind/metadata). Nothing in this snapshot substitutes it (petstore-webhook.oas.yaml,
    # which apis/petstore-webhook-api.yaml substitutes, is rightly not read as a descriptor).
    ("apis/petstore.oas.yaml", "apiVersion", "required"),
    ("apis/petstore.oas.yaml", "kind", "required"),
    ("apis/petstore.oas.yaml", "metadata", "required"),
    *(
        ("apis/petstore.oas.yaml", field, "root.unknown-field")
        for field in ("openapi", "info", "externalDocs", "servers", "tags", "paths", "components")
    ),
    # `$text: https://...` definitions. For these hosts Backstage refuses too: no integration is
    # configured and they are not in backend.reading.allow ("Reading from ... is not allowed"). Meridian reads
    # them through its SSRF-safe fetcher once their host is in CATALOG_IMPORT_ALLOWED_HOSTS (empty by default).
    *((f"apis/{name}-api.yaml", "spec.definition", "url.host-not-allowed") for name in DEFINITION_ON_OTHER_HOSTS),
    # The same, pointing at github.com. Backstage would fetch these through its default GitHub
    # integration; Meridian reads no host it was not told to (CATALOG_IMPORT_ALLOWED_HOSTS).
    *((f"apis/{name}-api.yaml", "spec.definition", "url.host-not-allowed") for name in DEFINITION_ON_GITHUB),
    # Two locations define the same entity: the older top-level file (read first) keeps it, and the
    # second is a conflict, as Backstage refuses the second location to claim an entity ref.
    ("apis/petstore-api.yaml", "metadata.name", "location.conflict"),
    *(
        (f"components/{name}-component.yaml", "metadata.name", "location.conflict")
        for name in ("artist-lookup", "petstore", "playback-lib", "podcast-api", "queue-proxy", "shuffle-api")
    ),
}


def relative(source: str) -> str:
    return str(Path(source).relative_to(EXAMPLES))


@needs_backstage_examples
def test_every_example_file_imports_as_backstage_would_take_it():
    report = import_paths(actor=ACTOR, paths=[EXAMPLES])

    problems = {(relative(p.source), p.field, p.rule) for p in report.all_problems}
    assert problems == EXPECTED_PROBLEMS
    assert len(report.all_problems) == len(EXPECTED_PROBLEMS)
    [invalid] = [p for p in report.all_problems if p.rule == "name.format"]
    assert invalid.index == 0
    assert invalid.message.startswith('metadata.name "invalid component" must be')

    assert Counter(Entity.objects.values_list("kind", flat=True)) == {
        "Component": 25,
        "User": 17,
        "API": 9,
        "Group": 9,
        "Location": 10,
        "AiResource": 4,  # a kind Backstage's model does not define: kept
        "Domain": 3,
        "System": 3,
        "Environment": 2,
        "Resource": 1,
    }
    # One location per YAML file, except the file substituted into another. No file is refused whole: each
    # entity is applied or refused on its own, and a file whose every entity was refused leaves no Location row.
    files = {str(path.relative_to(EXAMPLES)) for path in EXAMPLES.rglob("*.yaml")}
    reported = [relative(location.target) for location in report.locations]
    assert sorted(reported) == sorted(files - {"apis/petstore-webhook.oas.yaml"})
    assert report.refused == []
    nothing_applied = {relative(location.target) for location in report.locations if not location.applied}
    # acme-corp.yaml's Location entity is kept though its github target is not read, as Backstage keeps it.
    assert nothing_applied == {name for name, _, _ in EXPECTED_PROBLEMS} - {"acme-corp.yaml"}
    assert {relative(target) for target in Location.objects.values_list("target", flat=True)} == (
        set(reported) - nothing_applied
    )
    [refused] = [location for location in report.locations if relative(location.target) == "apis/spotify-api.yaml"]
    assert [(entity.index, entity.ref) for entity in refused.refused_entities] == [(0, "api:default/spotify")]
    assert report.status == 1  # something refused, the rest applied
    webhook = Entity.objects.get(kind="API", name="petstore-webhook")
    assert webhook.spec["definition"] == (EXAMPLES / "apis" / "petstore-webhook.oas.yaml").read_text()
    assert Entity.objects.get(kind="User", namespace="development", name="guest").spec["memberOf"] == [
        "group:default/team-a"
    ]


@needs_backstage_examples
def test_location_targets_are_followed_from_one_file():
    report = import_paths(actor=ACTOR, paths=[EXAMPLES / "all.yaml", EXAMPLES / "acme" / "org.yaml"])
    # all.yaml -> all-components.yaml -> components/*.yaml, and so on; acme/org.yaml -> the groups.
    targets = {relative(location.target) for location in report.locations}
    assert {"all-components.yaml", "components/workplace-component.yaml", "acme/team-d-group.yaml"} <= targets
    assert "components/invalid-component.yaml" not in targets  # not named by any Location
    assert Entity.objects.filter(kind="Component", name="wokplaceanalytics").exists()
    assert Entity.objects.filter(kind="System", name="podcast").exists()
    assert Entity.objects.filter(kind="User", name="lucy.sheehan").exists()
    # all.yaml and the six files it names (not all-environments.yaml), and acme/org.yaml's example-groups.
    assert Entity.objects.filter(kind="Location").count() == 8


def test_the_sandbox_estate_imports_cleanly():
    report = import_paths(actor=ACTOR, paths=[ESTATE])
    assert report.ok, report.as_text()
    assert report.all_problems == []
    assert Counter(Entity.objects.values_list("kind", flat=True)) == {
        "Component": 13,  # 12 deployed services and returns-service, not deployed yet
        "API": 6,
        "Group": 4,
        "System": 3,
        "Location": 1,
    }
    assert Entity.objects.get(kind="Component", name="orders-api").owner_team.slug == "team-orders"
