"""The audit log's pages: the events with their filters and the chain's state, one event with its diff, and
the exports (thin: parse, call a selector, render)."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.hashing import HASHED_FIELDS, content_hash
from audit.log.diff import diff
from audit.log.export import FORMATS, export_response
from audit.log.filters import FILTER_NAMES, AuditEventFilterSet, filter_errors
from audit.log.selectors import events_page, visible_events
from audit.models import AuditEvent
from audit.seals.selectors import chain_state

PAGE_SIZE = 50
EXPORT_PARAMS = (*FILTER_NAMES, "as")


def _filters(request):
    return AuditEventFilterSet(request.GET, queryset=visible_events(request.user), request=request)


def _query(params, **changes) -> str:
    merged = {name: value for name, value in params.items() if value and name in FILTER_NAMES}
    merged.update({name: value for name, value in changes.items() if value is not None})
    return urlencode(merged)


@require_GET
def index(request):
    filterset = _filters(request)
    filters = {name: request.GET.get(name, "") for name in FILTER_NAMES}
    context = {
        "filters": filters,
        "sources": AuditEvent.Source.choices,
        "chain": chain_state(),
        "filtered": any(filters.values()),
        "export_csv": "?" + _query(request.GET, **{"as": "csv"}),
        "export_jsonl": "?" + _query(request.GET, **{"as": "jsonl"}),
    }
    before_raw = request.GET.get("before", "")
    errors = filter_errors(filterset) if not filterset.is_valid() else {}
    if before_raw and not before_raw.isdigit():
        errors["before"] = ["Must be an event id: use the Older link as given."]
    if errors:
        context.update(errors=errors, events=[], next_query=None)
        return render(request, "audit/log/index.html", context, status=400)
    events, next_before = events_page(filterset.qs, before=int(before_raw) if before_raw else None, size=PAGE_SIZE)
    context.update(
        events=events,
        next_query=_query(request.GET, before=str(next_before)) if next_before else None,
        newest_query=_query(request.GET) if before_raw else None,
    )
    return render(request, "audit/log/index.html", context)


@require_GET
def event(request, event_id: int):
    found = visible_events(request.user).filter(pk=event_id).select_related("seal").first()
    if found is None:
        raise Http404("No such audit event, or not one you may see.")
    row = {name: getattr(found, name) for name in HASHED_FIELDS}
    return render(
        request,
        "audit/log/event.html",
        {
            "event": found,
            "changes": diff(found.before, found.after),
            "hash_matches": content_hash(row) == found.content_hash,
            "same_request": _query({"request_id": found.request_id}) if found.request_id else None,
            "same_target": _query({"target_type": found.target_type, "target_id": found.target_id})
            if found.target_type
            else None,
        },
    )


@require_GET
def export(request):
    unknown = sorted(set(request.GET) - set(EXPORT_PARAMS))
    file_format = request.GET.get("as", "")
    problems = [f"{name}: unknown parameter; an export takes {', '.join(EXPORT_PARAMS)}." for name in unknown]
    if file_format not in FORMATS:
        problems.append(f"as: must be {' or '.join(FORMATS)}, not {file_format[:20]!r}.")
    filterset = _filters(request)
    if not filterset.is_valid():
        problems += [f"{name}: {' '.join(messages)}" for name, messages in filter_errors(filterset).items()]
    if problems:
        text = "The export was refused:\n" + "\n".join(f"- {problem}" for problem in problems) + "\n"
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    return export_response(filterset.qs, file_format)
