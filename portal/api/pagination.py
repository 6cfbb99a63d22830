"""Every list in the API is paginated, by cursor, in an order the endpoint chose on purpose.

Cursor pages stay cheap and stable on big, changing tables (no OFFSET, no
COUNT). The order comes from the view's OrderingFilter when it has one, else
from the queryset (its order_by() or the model's Meta.ordering). An unordered
queryset is a bug, since rows could repeat or go missing between pages:
outside production it raises; in production it is logged and ordered by
primary key, so that a client gets correct pages anyway.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.pagination import CursorPagination

logger = logging.getLogger(__name__)


class UnorderedQuerysetError(ImproperlyConfigured):
    pass


class PortalCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = None  # taken from the queryset, see get_ordering

    def get_ordering(self, request, queryset, view):
        has_ordering_filter = any(hasattr(backend, "get_ordering") for backend in getattr(view, "filter_backends", ()))
        if has_ordering_filter or self.ordering is not None:
            return super().get_ordering(request, queryset, view)
        return self._queryset_ordering(queryset, view)

    def _queryset_ordering(self, queryset, view) -> tuple[str, ...]:
        name = type(view).__name__
        if not queryset.ordered:
            message = (
                f"{name} paginates an unordered queryset of {queryset.model.__name__}: give the queryset an "
                "order_by() ending in a unique field (e.g. order_by('-created_at', '-id'))."
            )
            if settings.PRODUCTION:
                logger.error(message)
                return ("pk",)
            raise UnorderedQuerysetError(message)
        ordering = queryset.query.order_by or (queryset.query.default_ordering and queryset.model._meta.ordering)
        if not all(isinstance(field, str) and "__" not in field for field in ordering):
            raise UnorderedQuerysetError(
                f"{name} orders by {ordering!r}: cursor pages need plain field names of the model itself."
            )
        return tuple(ordering)
