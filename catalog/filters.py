"""The catalog's one filter language, for the HTML list and the REST API alike (docs/catalog.md).

Repeating a parameter widens it (kind=component&kind=api is either kind), except `tag` and `annotation`,
which narrow (every tag, every annotation). Different parameters combine with AND. A value that is not valid
is an error naming the parameter, never silently ignored.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import DataContains, HasKey, KeyTextTransform, KeyTransform
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Exact
from drf_spectacular.drainage import set_override

from catalog.models import Entity, EntityTag
from catalog.refs import RefError, parse_ref

MAX_VALUES = 50

# --- fields that take a parameter repeated -----------------------------------------------------------------


class _RepeatedInput(forms.TextInput):
    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]


class RepeatedField(forms.Field):
    """A list of non-empty strings, each checked by `check` (which raises ValidationError)."""

    widget = _RepeatedInput

    def __init__(self, *, check=None, **kwargs):
        self.check = check
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [item.strip() for item in (str(v) for v in value) if item.strip()]

    def validate(self, value):
        super().validate(value)
        if len(value) > MAX_VALUES:
            raise ValidationError(f"At most {MAX_VALUES} values may be given.", code="too_many")
        if self.check:
            for item in value:
                self.check(item)


class _DescribedFilter:
    """Tells drf-spectacular the parameter's JSON type while keeping its help text as the description."""

    schema: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_override(self, "field", {**self.schema, "description": self.extra.get("help_text", "")})


class RepeatedFilter(_DescribedFilter, django_filters.Filter):
    field_class = RepeatedField
    schema = {"type": "array", "items": {"type": "string"}}


class TrueFalseFilter(_DescribedFilter, django_filters.TypedChoiceFilter):
    """true or false, strictly: anything else is an error rather than "no filter"."""

    schema = {"type": "boolean"}

    def __init__(self, *args, **kwargs):
        kwargs.update(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true")
        super().__init__(*args, empty_value=None, **kwargs)


# --- value checks ------------------------------------------------------------------------------------------

_KIND = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,62}$")
_NAMESPACE = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")


def _check_kind(value: str) -> None:
    if not _KIND.match(value):
        raise ValidationError(f"{value!r} is not a kind (a letter, then letters or digits, at most 63).")


def _check_namespace(value: str) -> None:
    if len(value) > 63 or not _NAMESPACE.match(value):
        raise ValidationError(f"{value!r} is not a namespace (letters and digits separated by '-', at most 63).")


def _check_short(value: str) -> None:
    if len(value) > 63:
        raise ValidationError(f"{value[:20]!r}... is longer than 63 characters.")


def _ref_check(default_kind: str):
    def check(value: str) -> None:
        try:
            _to_key(value, default_kind)
        except RefError as error:
            raise ValidationError(str(error)) from error

    return check


def _check_annotation(value: str) -> None:
    key, _, _ = value.partition("=")
    if not key.strip() or len(key) > 317:
        raise ValidationError(f"{value!r} is not 'key' or 'key=value' with a key of 1-317 characters.")


def _to_key(value: str, default_kind: str) -> str:
    ref = parse_ref(value, default_kind=default_kind)
    if "/" in ref.name or len(ref.name) > 63:
        raise RefError(f"{value!r} is not a reference of the form [kind:][namespace/]name")
    return ref.key


# --- sorting -----------------------------------------------------------------------------------------------

DEFAULT_SORT = "name"
# With a search and no sort asked for, the best matches come first (Backstage's search, Port's too).
DEFAULT_SEARCH_SORT = "relevance"
# Each ends in the primary key, so the order is total and cursor pages never repeat or skip a row.
SORTS = {
    "relevance": ("relevance", "name_lower", "id"),  # see _relevance; then A to Z
    "name": ("name_lower", "id"),  # Lower("name") has an index of its own (entity_name_lower_idx)
    "kind": ("kind_key", "namespace", "name", "id"),  # the entity_kind_ns_name_idx index
    "updated": ("updated_at", "id"),
}
# Relevance has one direction: worst matches first is no order anyone asks for.
SORT_CHOICES = [(key, key) for name in SORTS for key in ((name,) if name == "relevance" else (name, f"-{name}"))]
NAME_MATCH, TITLE_MATCH, OTHER_MATCH = 0, 1, 2


def sort_entities(queryset, sort: str, *, searching: bool = False, terms: list[str] | None = None):
    descending = sort.startswith("-")
    fields = SORTS[sort.lstrip("-")]
    if "relevance" in fields:
        queryset = queryset.annotate(relevance=_relevance(terms or []))
    if "name_lower" in fields:
        # The same order either way. Without a search, the name index serves it. With one, the matches come
        # from the full-text index and are few, and sorting them beats walking the name index while testing
        # every row against the search, which PostgreSQL otherwise picks (330 ms against 20 ms at 100,000
        # entities, docs/benchmarks.md): `|| ''` makes the expression one no index has.
        name_lower = Concat(Lower("name"), Value(""), output_field=CharField()) if searching else Lower("name")
        queryset = queryset.annotate(name_lower=name_lower)
    return queryset.order_by(*(f"-{name}" if descending else name for name in fields))


def _relevance(terms: list[str]) -> Case | Value:
    """Where the search words are found: all in the name, else all in the title, else elsewhere (description,
    tags). Worked out only for the rows the search matched (few, from the full-text index), so no index is
    needed for it; without search words every row ranks the same and the order is A to Z."""
    if not terms:
        return Value(OTHER_MATCH)
    in_name = Q(*(Q(name__icontains=term) for term in terms))
    in_title = Q(*(Q(title__icontains=term) for term in terms))
    return Case(
        When(in_name, then=Value(NAME_MATCH)), When(in_title, then=Value(TITLE_MATCH)), default=Value(OTHER_MATCH)
    )


# --- full-text search ---------------------------------------------------------------------------------------

# Letters and digits only: the same split PostgreSQL's parser makes at '-', '_', '.', so "orders-api" finds
# "orders-api", and no user input reaches to_tsquery's own syntax.
_WORD = re.compile(r"[^\W_]+")
MAX_SEARCH_TERMS = 8


def search_terms(q: str) -> list[str]:
    return _WORD.findall((q or "").lower())[:MAX_SEARCH_TERMS]


def entity_search(queryset: QuerySet, q: str) -> QuerySet:
    """Entities whose name, title, description or tags contain words starting with every word of `q`.

    PostgreSQL: to_tsvector('simple', search_text) @@ to_tsquery('simple', 'w1:* & w2:*'), the expression
    of the GIN index in migration 0002, so the index answers it. SQLite: a substring match per word.
    """
    terms = search_terms(q)
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(_ts_match(" & ".join(f"{term}:*" for term in terms)))
    for term in terms:
        queryset = queryset.filter(search_text__icontains=term)
    return queryset


def _ts_match(tsquery: str) -> Func:
    # Written out rather than with django.contrib.postgres's SearchVector, which wraps the column in
    # COALESCE() and so no longer matches the index expression.
    vector = Func(F("search_text"), template="to_tsvector('simple', %(expressions)s)", output_field=TextField())
    query = Func(Value(tsquery), template="to_tsquery('simple', %(expressions)s)", output_field=TextField())
    return Func(vector, query, template="%(expressions)s", arg_joiner=" @@ ", output_field=BooleanField())


# --- the FilterSet -----------------------------------------------------------------------------------------

_ANNOTATIONS = KeyTransform("annotations", KeyTransform("metadata", "document"))


class EntityFilterSet(django_filters.FilterSet):
    kind = RepeatedFilter(method="filter_kind", check=_check_kind, help_text="Kind, e.g. component. Repeat for OR.")
    namespace = RepeatedFilter(method="filter_namespace", check=_check_namespace, help_text="Namespace. Repeat for OR.")
    owner = RepeatedFilter(
        method="filter_owner",
        check=_ref_check("Group"),
        help_text="Owner: team-orders or group:default/team-orders (kind defaults to Group). Repeat for OR.",
    )
    type = RepeatedFilter(method="filter_type", check=_check_short, help_text="spec.type, e.g. service. Repeat for OR.")
    lifecycle = RepeatedFilter(
        method="filter_lifecycle", check=_check_short, help_text="spec.lifecycle, e.g. production. Repeat for OR."
    )
    system = RepeatedFilter(
        method="filter_system",
        check=_ref_check("System"),
        help_text="System: orders or system:default/orders (kind defaults to System). Repeat for OR.",
    )
    tag = RepeatedFilter(method="filter_tag", check=_check_short, help_text="A tag. Repeat to require every tag.")
    annotation = RepeatedFilter(
        method="filter_annotation",
        check=_check_annotation,
        help_text="An annotation: 'key' (present) or 'key=value' (equal). Repeat to require every one.",
    )
    orphaned = TrueFalseFilter(
        method="filter_orphaned",
        help_text="true: only entities gone from their location; false: only the others.",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text="Free text: every word must start a word of the name, title, description or tags.",
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort",
        choices=SORT_CHOICES,
        empty_label=None,
        help_text=(
            "relevance (name matches, then title matches, then the rest), name, kind or updated; '-' first for "
            f"descending. Default {DEFAULT_SEARCH_SORT} with q, {DEFAULT_SORT} without."
        ),
    )

    class Meta:
        model = Entity
        fields = []

    def filter_queryset(self, queryset):
        # Always ordered, so that every caller (page, API, cursor) gets the same stable order.
        queryset = super().filter_queryset(queryset)
        terms = search_terms(self.form.cleaned_data.get("q") or "")
        sort = self.form.cleaned_data.get("sort") or (DEFAULT_SEARCH_SORT if terms else DEFAULT_SORT)
        return sort_entities(queryset, sort, searching=bool(terms), terms=terms)

    def filter_kind(self, queryset, name, values):
        return queryset.filter(kind_key__in=[value.lower() for value in values])

    def filter_namespace(self, queryset, name, values):
        condition = Q()
        for value in values:
            condition |= Q(namespace__iexact=value)
        return queryset.filter(condition)

    def filter_owner(self, queryset, name, values):
        return queryset.filter(owner_key__in=[_to_key(value, "Group") for value in values])

    def filter_system(self, queryset, name, values):
        return queryset.filter(system_key__in=[_to_key(value, "System") for value in values])

    def filter_type(self, queryset, name, values):
        return queryset.filter(spec_type__in=values)

    def filter_lifecycle(self, queryset, name, values):
        return queryset.filter(lifecycle__in=values)

    def filter_tag(self, queryset, name, values):
        for tag in dict.fromkeys(value.lower() for value in values):
            queryset = queryset.filter(Exists(EntityTag.objects.filter(entity=OuterRef("pk"), tag=tag)))
        return queryset

    def filter_annotation(self, queryset, name, values):
        # Expressions rather than document__metadata__annotations__<key>: keys such as
        # "backstage.io/techdocs-ref" must stay one key, whatever characters they hold.
        # On PostgreSQL both forms are answered by the GIN index on the annotations object (migration 0005):
        # `?` for a key, containment `@>` for key=value. SQLite has no containment on JSON, so it compares the value.
        containment = connections[queryset.db].vendor == "postgresql"
        for value in values:
            key, has_value, expected = value.partition("=")
            key = key.strip()
            if has_value and containment:
                queryset = queryset.filter(DataContains(_ANNOTATIONS, Value({key: expected}, output_field=JSONField())))
            elif has_value:
                queryset = queryset.filter(Exact(KeyTextTransform(key, _ANNOTATIONS), expected))
            else:
                queryset = queryset.filter(HasKey(_ANNOTATIONS, key))
        return queryset

    def filter_orphaned(self, queryset, name, value):
        return queryset.filter(orphaned=value)

    def filter_q(self, queryset, name, value):
        return entity_search(queryset, value)

    def filter_sort(self, queryset, name, value):
        return queryset  # applied in filter_queryset, after every filter


FILTER_NAMES = tuple(EntityFilterSet.base_filters)
