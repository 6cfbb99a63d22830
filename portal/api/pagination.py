"""Every list in the API is paginated, by cursor, in an order the endpoint chose on purpose.

Cursor pages stay cheap and stable on big, changing tables (no OFFSET, no
COUNT). The order comes from the view's OrderingFilter when it has one, else
from the queryset (its order_by() or the model's Meta.ordering). An unordered
queryset is a bug, since rows could repeat or go missing between pages:
outside production it raises; in production it is logged and ordered by
primary key, so that a client gets correct pages anyway.

`limit` outside 1..1000 (or not a number) and a cursor that is not one of ours
are 400s naming the parameter, on every list: DRF would quietly use the default
page size for the one and answer 404 for the other.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

logger = logging.getLogger(__name__)


class UnorderedQuerysetError(ImproperlyConfigured):
    pass


class PortalCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = None  # taken from the queryset, see get_ordering

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: use the next or previous link as given."]}
            ) from None

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
