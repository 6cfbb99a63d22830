"""The audit log's one filter language, for its pages, its REST API and its exports alike.

Every parameter narrows (AND). A value that is not valid (an unknown team or user, a time that is not one,
a source not in the list) is an error naming the parameter, never silently ignored: an export with a typo in
its filter would otherwise be a year of the wrong events.
"""

from datetime import UTC, datetime, time

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from audit.models import AuditEvent
from portal.models import Team, User

FILTER_NAMES = ("actor", "team", "target_type", "target_id", "action", "source", "request_id", "since", "until")


class MomentField(forms.CharField):
    """A date (2026-01-31, its midnight UTC) or an ISO 8601 time (2026-01-31T12:00:00Z; UTC unless given)."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value) if len(value) == 10 else None
            if day is None:
                raise forms.ValidationError(f"{value[:40]!r} is not a date (2026-01-31) or an ISO 8601 time.")
            moment = datetime.combine(day, time.min)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


# A string in the schema, not drf-spectacular's guess from occurred_at (date-time): a date alone is taken too.
@extend_schema_field(OpenApiTypes.STR)
class MomentFilter(django_filters.Filter):
    field_class = MomentField


class AuditFilterForm(forms.Form):
    def clean_actor(self):
        value = (self.cleaned_data.get("actor") or "").strip()
        if not value or value.startswith("system:"):
            return value
        user_id = User.objects.filter(username=value).values_list("pk", flat=True).first()
        if user_id is None:
            raise forms.ValidationError(f"No user is named {value[:60]!r} (a system actor is written system:<name>).")
        return user_id

    def clean_team(self):
        value = (self.cleaned_data.get("team") or "").strip()
        if not value:
            return None
        team_id = Team.objects.filter(slug=value).values_list("pk", flat=True).first()
        if team_id is None:
            raise forms.ValidationError(f"No team has the slug {value[:60]!r}.")
        return team_id

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target_id") and not cleaned.get("target_type"):
            self.add_error("target_id", "Give target_type too (e.g. catalog.entity): ids are per type.")
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", "Must be after since.")
        return cleaned


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="a username (their own and their tokens' events), or system:<name>"
    )
    team = django_filters.CharFilter(method="filter_team", help_text="a team's slug: events about its objects")
    target_type = django_filters.CharFilter(help_text="app_label.model, e.g. catalog.entity or portal.team")
    target_id = django_filters.CharFilter(help_text="the target's id (with target_type)")
    action = django_filters.CharFilter(
        method="filter_action", help_text="e.g. entity.update; a trailing * matches a prefix (entity.*)"
    )
    source = django_filters.ChoiceFilter(choices=AuditEvent.Source.choices, help_text="where it came in")
    request_id = django_filters.CharFilter(help_text="the X-Request-ID of the request (or task) that did it")
    since = MomentFilter(field_name="occurred_at", lookup_expr="gte", help_text="from this date or time")
    until = MomentFilter(field_name="occurred_at", lookup_expr="lt", help_text="before this date or time")

    class Meta:
        model = AuditEvent
        fields = list(FILTER_NAMES)
        form = AuditFilterForm

    def filter_actor(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if isinstance(value, int):
            return queryset.filter(actor_user_id=value)
        return queryset.filter(actor_label=value) if value else queryset

    def filter_team(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(team_id=value) if value else queryset

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.endswith("*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)


def filter_errors(filterset: AuditEventFilterSet) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in filterset.errors.items()}
