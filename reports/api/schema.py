"""The OpenAPI documentation shared by every reports endpoint: query parameters, errors, empty values."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from leads.api.views import LeadPagination

from .. import metrics
from ..forms import VIEW_CHOICES


def optional(name, kind, description, **extra):
    return OpenApiParameter(name, kind, description=description, **extra)


class ReportSchema(AutoSchema):
    """Documents what ``ReportForm`` does: an empty optional parameter (``?to=``) means its default, as in a form."""

    def _process_override_parameters(self, direction="request"):
        parameters = super()._process_override_parameters(direction)
        return {
            key: {**parameter, "allowEmptyValue": True} if parameter and not parameter.get("required") else parameter
            for key, parameter in parameters.items()
        }


REPORT_PARAMETERS = [
    optional("from", OpenApiTypes.DATE, "First day of the period (YYYY-MM-DD). Default: 29 days before 'to'."),
    optional(
        "to",
        OpenApiTypes.DATE,
        "Last day of the period, inclusive (YYYY-MM-DD). Default: today. At most 731 days after 'from'; "
        "years 2000 to 2100.",
    ),
    optional(
        "view",
        OpenApiTypes.STR,
        "period: events that happened in the period; cohort: the period's MQLs followed to 'as_of'. "
        "Default: period. Changes the conversion numbers.",
        enum=[value for value, _label in VIEW_CHOICES],
    ),
    optional(
        "as_of", OpenApiTypes.DATETIME, "Judge ignored and awaiting MQLs as of this instant (ISO 8601). Default: now."
    ),
    optional("tz", OpenApiTypes.STR, "IANA time zone of the period's days, e.g. Europe/Berlin. Default: the server's."),
    optional("source", OpenApiTypes.STR, "Only leads of this source."),
    optional("campaign", OpenApiTypes.STR, "Only leads of this campaign."),
    optional(
        "team", OpenApiTypes.INT, "Only this team's MQLs. Managers: one of the teams they manage (default: the first)."
    ),
    optional("rep", OpenApiTypes.INT, "Only this rep's MQLs (user id). Reps always get their own numbers."),
    optional(
        "by",
        OpenApiTypes.STR,
        "Add a breakdown of the headline numbers by current owner, team, source or campaign.",
        enum=["rep", "team", "source", "campaign"],
    ),
]

ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description='Bad period or filters: {"field": ["message", ...]}, e.g. "to" before "from", a period longer than '
        'two years, a malformed date, a team you do not manage; period-wide problems under "detail".',
    ),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not authenticated."),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="The user has no role that may see reports."),
}


def documented(summary, body, *, parameters=REPORT_PARAMETERS, extra_errors=None):
    return extend_schema(
        summary=summary,
        parameters=parameters,
        responses={200: body, **ERRORS, **(extra_errors or {})},
    )


LEADS_PARAMETERS = [
    OpenApiParameter(
        "metric",
        OpenApiTypes.STR,
        required=True,
        enum=list(metrics.DRILL_DOWNS),
        description="The report the number belongs to.",
    ),
    OpenApiParameter(
        "bucket",
        OpenApiTypes.STR,
        required=True,
        description="Which number of the report, as in its leads_url: "
        + "; ".join(f"{metric}: {', '.join(buckets)}" for metric, buckets in metrics.DRILL_DOWNS.items())
        + ".",
    ),
    optional("reason", OpenApiTypes.STR, "Rejection reason code (rejection_reasons only)."),
    *REPORT_PARAMETERS,
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number (default 1)."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": LeadPagination.max_page_size},
        description=f"Rows per page (default {LeadPagination.page_size or 50}, at most {LeadPagination.max_page_size}).",
    ),
]
