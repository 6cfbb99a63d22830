"""Keyset cursor pages for the catalog's big lists.

DRF's CursorPagination keeps a position on the first ordering field only and steps over ties with an
offset, which it caps at 1,000: past 1,000 entities with the same name or kind, pages would repeat.
Here the cursor holds the values of every ordering field (each order ends in the primary key), so a
page is one indexed range query at any depth: `WHERE (name_lower, id) > (last...) LIMIT n+1`.

The response has the shape of the rest of the API ({"next", "previous", "results"}); a cursor that is
not one of ours, or belongs to another sort order, is a 400 naming `cursor`; `limit` is checked by the base.
"""

import base64
import binascii
import json
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from portal.api.pagination import PortalCursorPagination


class KeysetCursorPagination(PortalCursorPagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.ordering = self._queryset_ordering(queryset, view)
        position = self._decode(request.query_params.get(self.cursor_query_param), queryset)
        backwards = bool(position and position["backwards"])
        if position:
            queryset = queryset.filter(_beyond(self.ordering, position["values"], backwards))
        if backwards:
            queryset = queryset.order_by(*(_flip(field) for field in self.ordering))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        # Going forwards there is a previous page whenever we started from a cursor, and the reverse.
        self.has_next = more if not backwards else True
        self.has_previous = (position is not None) if not backwards else more
        self.page = rows
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        if not self.has_next or not self.page:
            return None
        return self._link(self.page[-1], backwards=False)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return self._link(self.page[0], backwards=True)

    def _link(self, row, *, backwards: bool) -> str:
        values = [_plain(getattr(row, field.lstrip("-"))) for field in self.ordering]
        payload = {"o": list(self.ordering), "v": values, "b": backwards}
        token = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, token)

    def _decode(self, token, queryset):
        if token is None:
            return None
        invalid = ValidationError(
            {self.cursor_query_param: ["Invalid cursor: use the next or previous link as given."]}
        )
        try:
            payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise invalid from None
        if not isinstance(payload, dict) or not isinstance(payload.get("v"), list):
            raise invalid
        if payload.get("o") != list(self.ordering):
            raise ValidationError(
                {self.cursor_query_param: ["This cursor belongs to another sort order; start again without it."]}
            )
        if len(payload["v"]) != len(self.ordering) or not isinstance(payload.get("b"), bool):
            raise invalid
        values = []
        for field, value in zip(self.ordering, payload["v"], strict=True):
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise invalid
            try:
                values.append(queryset.model._meta.get_field(field.lstrip("-")).to_python(value))
            except FieldDoesNotExist:
                values.append(value)  # an annotation such as name_lower: a string already
            except DjangoValidationError:
                raise invalid from None
        return {"values": values, "backwards": payload["b"]}


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def _beyond(ordering, values, backwards: bool) -> Q:
    """Rows after the position in this order (before it when going backwards), field by field."""
    condition = Q()
    equal = {}
    for field, value in zip(ordering, values, strict=True):
        name = field.lstrip("-")
        descending = field.startswith("-")
        lookup = "lt" if descending != backwards else "gt"
        condition |= Q(**equal, **{f"{name}__{lookup}": value})
        equal[name] = value
    return condition
