"""Keyset pages of the API's lead list: ``cursor`` names the last row of the previous page.

No OFFSET and no COUNT: the next page is read from the index (or the sort) where the
previous one stopped, so page 20,000 costs what page 1 costs and a million leads are
never counted. The cursor is opaque: the ordering, the last row's sort value and id.
"""

import base64
import binascii
import datetime
import json

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from leads.lead_list import MAX_ID, rows_after

from .filters import DEFAULT_ORDERING, ORDERINGS

DAMAGED = "This cursor is damaged or belongs to another ordering; start again without it."


class LeadCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        ordering = request.query_params.get("ordering") or DEFAULT_ORDERING
        # The filter set has refused an unknown ordering with a 400 before the page is read.
        sort = ORDERINGS.get(ordering, ORDERINGS[DEFAULT_ORDERING])
        size = self.get_page_size(request)
        queryset = queryset.order_by(*sort.order_by())
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            key, pk = self.decode(cursor, ordering)
            queryset = queryset.filter(rows_after(sort, key, pk))
        rows = list(queryset[: size + 1])
        self.next_url = None
        if len(rows) > size:
            rows = rows[:size]
            token = self.encode(ordering, getattr(rows[-1], sort.field), rows[-1].pk)
            self.next_url = replace_query_param(request.build_absolute_uri(), self.cursor_query_param, token)
        return rows

    def get_page_size(self, request):
        # DRF quietly falls back to the default size on a bad value; say so instead.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return api_settings.PAGE_SIZE
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"Use a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    @staticmethod
    def encode(ordering, key, pk):
        if isinstance(key, datetime.datetime):
            key = key.isoformat()
        raw = json.dumps([ordering, key, pk], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(token, ordering):
        """The (sort value, id) that ``token`` names for ``ordering``; raises ValidationError for anything else."""
        try:
            named, key, pk = json.loads(base64.urlsafe_b64decode(token.encode() + b"==="))
            if named != ordering or isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < MAX_ID:
                raise ValueError
            field = ORDERINGS[ordering].field
            if key is None:
                if not ORDERINGS[ordering].nullable:
                    raise ValueError
            elif field.endswith("_at"):
                key = datetime.datetime.fromisoformat(key)
                if key.tzinfo is None:
                    raise ValueError
                # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts.
                key = key.astimezone(datetime.UTC)
            elif field == "score":
                if isinstance(key, bool) or not isinstance(key, int) or not -(2**31) <= key < 2**31:
                    raise ValueError
            elif not isinstance(key, str) or len(key) > 200 or "\x00" in key:
                raise ValueError
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError):
            raise ValidationError({"cursor": [DAMAGED]}) from None
        return key, pk

    def get_paginated_response(self, data):
        return Response({"next": self.next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (the same query with its cursor), or null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the previous page stopped: take it from that page's next link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Leads per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class NumberedPagination(PageNumberPagination):
    """Numbered pages with a count, for lists that stay small (webhook deliveries)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # DRF quietly falls back to the default size on a bad value; say so instead.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"Use a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
