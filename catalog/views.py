"""Catalog pages: the list with facets and search, the entity page and its tabs, editing, and file upload.

Everyone signed in browses. Maintainers of the owning team and portal admins edit and delete (asked of
portal.permissions); the catalog services write and audit. Sent by htmx, the list answers with its results
alone, for an in-place update; the same URL without htmx is the whole page, so links and forms work without
JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_http_methods

from catalog import selectors, services
from catalog.exporting import document_yaml, exported_document
from catalog.filters import DEFAULT_SEARCH_SORT, DEFAULT_SORT, SORT_CHOICES, search_terms
from catalog.forms import EntityDocumentForm, ImportForm
from catalog.importing import import_upload_for, may_import
from catalog.models import Entity, EntityTag
from catalog.refs import RefError, parse_ref
from catalog.row_badges import row_badges
from catalog.tabs import header_badges_for, tab_for, tabs_for
from catalog.templatetags.catalog_ui import entity_url, ref_short
from portal.actors import Actor
from portal.permissions import CHANGE, DELETE, can

PAGE_SIZE = 50
# What templates/catalog/_results.html shows of a row (and the row badges read: catalog.row_badges).
ROW_FIELDS = (
    "id",
    "kind",
    "kind_key",
    "namespace",
    "name",
    "title",
    "description",
    "spec_type",
    "lifecycle",
    "owner_key",
    "system_key",
    "orphaned",
    "owner_team__slug",
    "owner_team__name",
    "score__level",
)
# Values listed per facet, most frequent first (chosen ones always shown): enough to choose from at a glance, and a
# page of 6 x 100 checkboxes would cost more to render than the queries that count them.
FACET_VALUES_SHOWN = 20
SORT_LABELS = {
    "relevance": "Best match",
    "name": "Name A→Z",
    "-name": "Name Z→A",
    "kind": "Kind",
    "-kind": "Kind, reversed",
    "-updated": "Recently updated",
    "updated": "Least recently updated",
}

# What the page opens on, as Backstage's catalog opens on Components: what people browse. Discovered AWS
# resources (most of a real estate's entities) are a tab away. The API's list has no such default.
DEFAULT_KINDS = ("component",)
# The kind tabs, in this order (other kinds follow, by count), with the names people call them by.
KIND_TAB_LABELS = {
    "component": "Components",
    "api": "APIs",
    "system": "Systems",
    "domain": "Domains",
    "resource": "Resources",
    "group": "Groups",
    "user": "Users",
    "template": "Templates",
    "location": "Locations",
}

# --- the list -----------------------------------------------------------------------------------------------


class _CountedPaginator(Paginator):
    """A Paginator told its total, when the facets already counted it, instead of running COUNT(*) again."""

    def __init__(self, *args, total: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self._total = total

    @cached_property
    def count(self) -> int:
        return self._total if self._total is not None else super().count


def _total_from_kind_facet(facets: dict, params) -> int | None:
    """Every entity has exactly one kind, so the kind facet's counts add up to the number of results.

    The kind facet is counted without the kind filter, so with kinds chosen only their counts add up; when the
    facet was cut at its limit some kinds are missing and the page counts for itself.
    """
    counts = facets.get("kind", [])
    if len(counts) >= FACET_VALUES_SHOWN:
        return None
    chosen = {value.lower() for value in params.getlist("kind") if value.strip()}
    return sum(count for value, count in counts if not chosen or value in chosen)


def _facet_groups(facets: dict, params) -> list[dict]:
    groups = []
    for name in selectors.FACETS:
        chosen = [value for value in params.getlist(name) if value.strip()]
        short = name in ("owner", "system")  # references, shown as people write them
        values = [
            {"value": value, "label": ref_short(value) if short else value, "count": count, "checked": False}
            for value, count in facets.get(name, [])
        ]
        listed = {item["value"].lower(): item for item in values}
        for value in chosen:
            item = listed.get(_facet_key(name, value))
            if item is None:
                # A chosen value outside the counted top values still shows, checked, so unticking it is possible.
                values.append({"value": value, "label": value, "count": 0, "checked": True})
            else:
                item["checked"] = True
        groups.append({"name": name, "label": "Type" if name == "type" else name.title(), "values": values})
    return groups


def _facet_key(name: str, value: str) -> str:
    """A chosen filter value in the form its facet lists it (owner "team-a" is listed as "group:default/team-a")."""
    defaults = {"owner": "Group", "system": "System"}
    if name in defaults:
        try:
            return parse_ref(value, default_kind=defaults[name]).key
        except RefError:
            return value.lower()
    return value.lower()


def _with_default_kinds(params):
    """The filters with the page's default kinds when no kind is given at all. `kind=` (empty, what the "All"
    tab and the filter form send when no kind is ticked) is a choice of every kind, so it is kept."""
    if "kind" in params:
        return params
    params = params.copy()
    params.setlist("kind", list(DEFAULT_KINDS))
    return params


def _kind_tabs(facets: dict, params) -> list[dict]:
    """One tab per kind in the catalog (with its count, the kind facet's), then "All"."""
    chosen = {value.lower() for value in params.getlist("kind") if value.strip()}
    counts = dict(facets.get("kind", []))
    order = list(KIND_TAB_LABELS)
    kinds = sorted(counts, key=lambda kind: (order.index(kind) if kind in order else len(order), -counts[kind]))
    tabs = [
        {
            "kind": kind,
            "label": KIND_TAB_LABELS.get(kind, kind.title()),
            "count": counts[kind],
            "active": chosen == {kind},
        }
        for kind in kinds
    ]
    # The facet cut at its limit leaves kinds out, and the sum would be short: then "All" shows no count.
    total = sum(counts.values()) if len(counts) < FACET_VALUES_SHOWN else None
    tabs.append({"kind": "", "label": "All", "count": total, "active": not chosen})
    return tabs


def _sort_choices(searching: bool) -> list[tuple[str, str]]:
    return [
        (value, SORT_LABELS.get(value, value))
        for value, _ in SORT_CHOICES
        if searching or value != DEFAULT_SEARCH_SORT  # relevance means nothing without search words
    ]


@require_GET
def entity_list(request):
    params = _with_default_kinds(request.GET)
    searching = bool(search_terms(params.get("q", "")))
    context = {
        "q": params.get("q", ""),
        "sort": params.get("sort") or (DEFAULT_SEARCH_SORT if searching else DEFAULT_SORT),
        "sort_choices": _sort_choices(searching),
        "filtered": any(
            value.strip()
            for name in (*selectors.FACETS, "q", "namespace", "annotation")
            for value in request.GET.getlist(name)
        ),
        "may_import": may_import(request.user),
    }
    try:
        entities = selectors.entity_list(params=params)
        facets = selectors.entity_facets(entities, params=params, limit=FACET_VALUES_SHOWN)
    except selectors.InvalidFilters as invalid:
        context["filter_errors"] = invalid.errors
        # htmx swaps only successful answers; the message is in the partial.
        status = 200 if request.htmx else 400
        return render(request, _list_template(request), context, status=status)
    # The rows read only the columns they show, their tags and the stored scorecard level: never the document
    # (an API's definition can be large), nor the location, the team's or the score's other fields. At 50 rows a
    # page, making model instances of unused columns (timestamps, JSON) cost more than the query itself. The
    # tags come as a plain list (no queryset a row).
    rows = (
        entities.select_related(None)
        .select_related("owner_team", "score")
        .only(*ROW_FIELDS)
        .prefetch_related(Prefetch("tag_rows", queryset=EntityTag.objects.only("entity_id", "tag"), to_attr="row_tags"))
    )
    paginator = _CountedPaginator(rows, PAGE_SIZE, total=_total_from_kind_facet(facets, params))
    page = paginator.get_page(params.get("page"))
    context.update(
        page=page,
        facet_groups=_facet_groups(facets, params),
        kind_tabs=_kind_tabs(facets, params),
        # The sidebar is made of the facet counts and the filters alone: its HTML is cached under their key.
        facets_key=selectors.facets_cache_key(params, limit=FACET_VALUES_SHOWN),
        facets_cache_seconds=selectors.FACETS_CACHE_SECONDS,
        row_badges=row_badges(page.object_list),
    )
    return render(request, _list_template(request), context)


def _list_template(request) -> str:
    return "catalog/_results.html" if request.htmx and not request.htmx.boosted else "catalog/list.html"


# --- one entity ---------------------------------------------------------------------------------------------


def _entity(namespace: str, kind: str, name: str) -> Entity:
    try:
        return selectors.entity_by_ref(f"{kind}:{namespace}/{name}")
    except (Entity.DoesNotExist, RefError):
        raise Http404(f"No {kind} {namespace}/{name} in the catalog.") from None


def _entity_to(request, action: str, namespace: str, kind: str, name: str) -> Entity:
    entity = _entity(namespace, kind, name)
    if not can(request.user, action, entity):
        raise PermissionDenied(f"Only maintainers of the team that owns {entity.ref} may {action} it.")
    return entity


@require_GET
def entity_detail(request, namespace, kind, name, tab=""):
    entity = _entity(namespace, kind, name)
    active = tab_for(entity, tab)
    if active is None:
        raise Http404(f"{entity.ref} has no tab {tab!r}.")
    context = {
        "entity": entity,
        "tabs": tabs_for(entity),
        "header_badges": [badge.template for badge in header_badges_for(entity)],
        "active_tab": active,
        "may_change": can(request.user, CHANGE, entity),
    }
    context.update(active.context(request, entity))
    context.setdefault("tab_scripts", active.scripts)
    context.setdefault("tab_css", active.stylesheets)
    # A tab refusing its input (a bad time range...) still shows the page, with its message, as a 400.
    return render(request, "catalog/entity.html", context, status=context.pop("tab_status", 200))


@require_GET
def entity_definition(request, namespace, kind, name):
    """An API's definition as written, for download or another viewer."""
    entity = _entity(namespace, kind, name)
    definition = entity.spec.get("definition")
    if entity.kind_key != "api" or not isinstance(definition, str) or not definition:
        raise Http404(f"{entity.ref} has no definition.")
    response = HttpResponse(definition, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{entity.name}.definition.txt"'
    return response


def _document_yaml(entity: Entity) -> str:
    return document_yaml(exported_document(entity))


@require_http_methods(["GET", "POST"])
def entity_edit(request, namespace, kind, name):
    entity = _entity_to(request, CHANGE, namespace, kind, name)
    context = {"entity": entity}
    if request.method == "GET":
        form = EntityDocumentForm(initial={"document": _document_yaml(entity), "etag": entity.etag})
        return render(request, "catalog/entity_edit.html", {**context, "form": form})
    form = EntityDocumentForm(request.POST)
    if not form.is_valid():
        return render(request, "catalog/entity_edit.html", {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            updated = services.entity_update(
                actor=Actor.from_request(request),
                entity=entity,
                document=form.cleaned_data["document"],
                if_match=form.cleaned_data["etag"],
            )
            # A new spec.owner must be a team this person maintains too, or an edit could give an entity away
            # to (or take it from) a team they have no say in; refused, the change and its audit event roll back.
            if not can(request.user, CHANGE, updated):
                raise _OwnerNotMaintained(updated)
    except _OwnerNotMaintained as refused:
        context.update(form=form, problems=[_owner_problem(refused.entity)])
        return render(request, "catalog/entity_edit.html", context, status=403)
    except services.PreconditionFailed:
        # Someone saved in between: keep this person's text and show what is there now, to merge by hand; the
        # form now carries the current etag, so saving the merged text again is a deliberate overwrite.
        form = EntityDocumentForm(data={"document": request.POST.get("document", ""), "etag": entity.etag})
        context.update(form=form, conflict=True, current_yaml=_document_yaml(entity))
        return render(request, "catalog/entity_edit.html", context, status=409)
    except ValidationError as error:
        context.update(form=form, problems=_problems(error))
        return render(request, "catalog/entity_edit.html", context, status=400)
    messages.success(request, f"Saved {updated.ref}.")
    return redirect(entity_url(updated))


class _OwnerNotMaintained(Exception):
    def __init__(self, entity: Entity):
        self.entity = entity


def _owner_problem(entity: Entity) -> dict:
    owner = entity.owner_team.name if entity.owner_team else entity.owner_key or "no team"
    return {
        "field": "spec.owner",
        "rule": "owner.not-maintained",
        "message": f"You do not maintain {owner}, the owner this change names; keep an owner you maintain.",
    }


def _problems(error: ValidationError) -> list:
    """The validation problems a service refused with (catalog.validation.Problem), or its messages."""
    problems = getattr(error, "problems", None)
    if problems:
        return list(problems)
    return [{"field": "", "rule": "", "message": message} for message in error.messages]


@require_http_methods(["GET", "POST"])
def entity_delete(request, namespace, kind, name):
    entity = _entity_to(request, DELETE, namespace, kind, name)
    if request.method == "GET":
        return render(request, "catalog/entity_delete.html", {"entity": entity})
    ref = entity.ref
    services.entity_delete(actor=Actor.from_request(request), entity=entity)
    messages.success(request, f"Deleted {ref}.")
    return redirect("catalog:index")


# --- import -------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def catalog_import(request):
    if not may_import(request.user):
        raise PermissionDenied("Only maintainers of a team and portal admins may import catalog files.")
    if request.method == "GET":
        return render(request, "catalog/import.html", {"form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "catalog/import.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    report, refused = import_upload_for(
        actor=Actor.from_request(request), name=upload.name, content=upload.read(), force=form.cleaned_data["force"]
    )
    if refused:
        context = {"form": form, "file_name": upload.name, "refused_refs": refused}
        return render(request, "catalog/import.html", context, status=403)
    return render(request, "catalog/import.html", {"form": ImportForm(), "report": report, "file_name": upload.name})
