"""API error responses: a refused lead operation becomes a 400, 403 or 409 with a readable message."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.formats import number_format
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from leads.transitions import InvalidInput, LeadError, NotPermitted


def exception_handler(exc, context):
    """DRF's handler, plus ``LeadError`` answered with its own status code."""
    if isinstance(exc, LeadError):
        set_rollback()
        return Response(lead_error_body(exc), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer its HTML 400 page; an API client gets a sentence in JSON.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = gettext("The request body is larger than %(limit)s bytes; send less per request.") % {
            "limit": number_format(limit, force_grouping=True)
        }
        return Response({"detail": detail, "code": "too_large"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)


def lead_error_body(exc):
    # Same shapes as DRF's own errors, so a client needs one error parser:
    # field errors as {"field": ["message"]}, everything else as {"detail": ...}.
    if isinstance(exc, InvalidInput) and exc.field:
        return {exc.field: [exc.message]}
    if isinstance(exc, NotPermitted):
        return {"detail": exc.message, "code": "permission_denied"}
    if isinstance(exc, InvalidInput):
        return {"detail": exc.message, "code": "invalid"}
    # IllegalTransition and ConcurrentUpdate: the lead's current state refuses the move.
    return {"detail": exc.message, "code": "conflict"}
