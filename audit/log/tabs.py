"""The Audit tab of entity pages (registered in catalog.tabs from AuditConfig.ready): the entity's newest
events and a link to all of them on the audit page. It reads the database only (one query)."""

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from audit.log.selectors import events_page, visible_events
from catalog.tabs import EntityTab

TAB_EVENTS = 20


def entity_audit_query(entity) -> str:
    return urlencode({"target_type": entity._meta.label_lower, "target_id": str(entity.pk)})


def audit_context(request: HttpRequest, entity) -> dict:
    events = visible_events(request.user).filter(target_type=entity._meta.label_lower, target_id=str(entity.pk))
    page, more = events_page(events, before=None, size=TAB_EVENTS)
    return {
        "events": page,
        "more": more is not None,
        "all_url": f"{reverse('audit:index')}?{entity_audit_query(entity)}",
    }


def audit_tab() -> EntityTab:
    return EntityTab(
        slug="audit",
        label="Audit",
        icon="bi-journal-check",
        order=90,
        template="audit/log/entity_tab.html",
        context=audit_context,
    )
