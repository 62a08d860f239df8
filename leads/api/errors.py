"""API error responses: a refused lead operation becomes a 400, 403 or 409 with a readable message."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from leads.transitions import InvalidInput, LeadError, NotPermitted


def exception_handler(exc, context):
    """DRF's handler, plus ``LeadError`` answered with its own status code."""
    if isinstance(exc, LeadError):
        set_rollback()
        return Response(lead_error_body(exc), status=exc.status_code)
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
