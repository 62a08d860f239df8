"""The reports API: the JSON twin of every report page, under /api/reports/.

Each endpoint reads the same query parameters as its page through ``ReportForm``
(scoped by role the same way), asks ``reports.metrics`` for the numbers and
returns them with their formula, the period and filters as read, and a
``leads_url`` per number: ``/api/reports/leads/`` with the same parameters lists
the leads behind it. Bad parameters answer 400 with a message per field.
Durations are in seconds (a float, null when there is nothing to measure);
percentages are null when the denominator is zero.

Mounted by ``path("api/reports/", include("reports.api"))`` ahead of ``api/``.
"""

from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import access
from leads.api.views import LeadPagination

from . import metrics
from .forms import VIEW_CHOICES, DrillDownForm, ReportForm
from .templatetags.reports_ui import episode_outcome

app_name = "reports_api"


class HasReportRole(permissions.BasePermission):
    message = "Reports are for users with a role: rep, manager, marketer or admin."

    def has_permission(self, request, view):
        return access.has_role(request.user, *access.ROLES)


# Query parameters (documented once, shared by every endpoint)


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


# Response shapes


class PeriodEcho(serializers.Serializer):
    # "from" is a keyword: the field is declared below the class.
    to = serializers.DateField()
    tz = serializers.CharField()
    days = serializers.IntegerField()


PeriodEcho._declared_fields = {"from": serializers.DateField(), **PeriodEcho._declared_fields}


class FiltersEcho(serializers.Serializer):
    source = serializers.CharField(allow_blank=True)
    campaign = serializers.CharField(allow_blank=True)
    team = serializers.IntegerField(allow_null=True)
    rep = serializers.IntegerField(allow_null=True)


class CountNumber(serializers.Serializer):
    count = serializers.IntegerField()
    leads_url = serializers.URLField(help_text="The leads behind this number (GET /api/reports/leads/?...).")


class RateNumber(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="numerator ÷ denominator × 100; null when 0 ÷ 0.")
    formula = serializers.CharField()
    leads_url = serializers.URLField(allow_null=True, help_text="The leads counted in the numerator.")


class ReportBody(serializers.Serializer):
    report = serializers.CharField()
    formula = serializers.CharField()
    as_of = serializers.DateTimeField()
    period = PeriodEcho()
    filters = FiltersEcho()
    view = serializers.ChoiceField(choices=VIEW_CHOICES)


class IgnoreRateBody(ReportBody):
    ignore_rate = RateNumber()
    mqls = CountNumber()
    ignored = CountNumber()
    awaiting = CountNumber(help_text="Inside their SLA window with no follow-up: not ignored (yet).")
    followed_up = CountNumber()


class ConversionBody(ReportBody):
    mql_to_sql = RateNumber(help_text="MQL efficiency.")
    mql_to_sal = RateNumber(help_text="Acceptance.")
    mqls = CountNumber()
    sals = CountNumber()
    sqls = CountNumber()


class SlaComplianceBody(ReportBody):
    compliance = RateNumber()
    closed = CountNumber()
    within = CountNumber()
    late = CountNumber(help_text="Followed up after the window closed: an SLA miss, not ignored.")
    never = CountNumber()


class SpeedBand(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    leads_url = serializers.URLField()


class RepSpeed(serializers.Serializer):
    rep = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    responded = CountNumber()
    mean_seconds = serializers.FloatField(allow_null=True)
    within_hour = RateNumber()
    within_sla = RateNumber()


class SpeedToLeadBody(ReportBody):
    responded = CountNumber()
    median_seconds = serializers.FloatField(allow_null=True)
    mean_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    typical_window_seconds = serializers.FloatField(
        allow_null=True, help_text="The median SLA window of the period's MQLs."
    )
    misses_sla = serializers.BooleanField(
        allow_null=True, help_text="Whether the mean response is slower than the typical SLA window."
    )
    within_hour = RateNumber()
    within_sla = RateNumber()
    bands = SpeedBand(many=True)
    by_rep = RepSpeed(many=True)


class ReasonRow(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    from_mql = serializers.IntegerField()
    from_sal = serializers.IntegerField()
    leads_url = serializers.URLField()


class TrendRow(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday starting the week.")
    code = serializers.CharField()
    count = serializers.IntegerField()


class SplitRow(serializers.Serializer):
    value = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    count = serializers.IntegerField()
    leads_url = serializers.URLField(allow_null=True)


class RejectionReasonsBody(ReportBody):
    rejections = CountNumber()
    reasons = ReasonRow(many=True)
    trend = TrendRow(many=True)
    by_source = SplitRow(many=True)
    by_campaign = SplitRow(many=True)


class ConversationGroup(serializers.Serializer):
    contacted = CountNumber()
    conversations = CountNumber()
    rate = RateNumber()


class ConversationRateBody(ReportBody):
    mql = ConversationGroup()
    colder = ConversationGroup()


class MonthRow(serializers.Serializer):
    month = serializers.DateField()
    mqls = CountNumber()
    target = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True, help_text="MQLs ÷ target × 100; null without a target.")


class MqlTargetBody(ReportBody):
    months = MonthRow(many=True)


class OverviewBody(ReportBody):
    mqls = CountNumber()
    ignore_rate = RateNumber()
    awaiting = CountNumber()
    mql_to_sal = RateNumber()
    mql_to_sql = RateNumber()
    sla_compliance = RateNumber()
    median_response_seconds = serializers.FloatField(allow_null=True)
    misses_sla = serializers.BooleanField(allow_null=True)
    rejections = CountNumber()
    mql_conversation_rate = RateNumber()
    colder_conversation_rate = RateNumber()


class LeadRow(serializers.Serializer):
    lead = serializers.IntegerField()
    lead_url = serializers.URLField()
    name = serializers.CharField()
    company = serializers.CharField(allow_blank=True)
    owner = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)
    campaign = serializers.CharField(allow_blank=True)
    episode = serializers.IntegerField(allow_null=True, help_text="The MQL episode number; null for contacted leads.")
    mql_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    first_follow_up_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    qualified_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True)
    rejection_reason = serializers.CharField(allow_null=True)
    rejection_note = serializers.CharField(allow_blank=True)
    first_contact_at = serializers.DateTimeField(allow_null=True, help_text="Conversation rate lists only.")
    had_conversation = serializers.BooleanField(allow_null=True, help_text="Conversation rate lists only.")


class LeadsBody(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    metric = serializers.CharField()
    bucket = serializers.CharField()
    title = serializers.CharField()
    as_of = serializers.DateTimeField()
    period = PeriodEcho()
    filters = FiltersEcho()
    results = LeadRow(many=True)


# Building the answers


def _seconds(value):
    return None if value is None else value.total_seconds()


def _percent(value):
    return None if value is None else round(value, 4)


class ReportView(APIView):
    """Read the report form, compute, answer; subclasses say what ``numbers`` returns."""

    permission_classes = [permissions.IsAuthenticated, HasReportRole]
    schema = ReportSchema()
    slug = ""
    formula = ""

    def get(self, request):
        form = ReportForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        as_of = form.selected_as_of or timezone.now()
        leads_base = request.build_absolute_uri(reverse("reports_api:leads"))

        def count(value, metric, bucket, **extra):
            query = form.query(as_of=as_of, metric=metric, bucket=bucket, **extra)
            return {"count": value, "leads_url": f"{leads_base}?{query}"}

        def rate(ratio, formula, metric=None, bucket=None, **extra):
            url = count(0, metric, bucket, **extra)["leads_url"] if metric else None
            return {
                "numerator": ratio.numerator,
                "denominator": ratio.denominator,
                "percent": _percent(ratio.percent),
                "formula": formula,
                "leads_url": url,
            }

        body = {
            "report": self.slug,
            "formula": self.formula,
            "as_of": as_of,
            "view": form.selected_view,
            **form.echo(),
            **self.numbers(form, as_of, count, rate),
        }
        return Response(body)


class IgnoreRateView(ReportView):
    slug, formula = "ignore_rate", metrics.IgnoreRate.formula

    @documented("Ignore Rate: MQLs never followed up after their SLA window expired", IgnoreRateBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.ignore_rate(form.period, form.filters, as_of=as_of)
        return {
            "ignore_rate": rate(result.rate, self.formula, self.slug, "ignored"),
            **{
                name: count(getattr(result, name), self.slug, name)
                for name in ("mqls", "ignored", "awaiting", "followed_up")
            },
        }


class ConversionView(ReportView):
    slug = "conversion"
    formula = f"{metrics.Conversion.formula_sql}; {metrics.Conversion.formula_sal}"

    @documented("MQL→SQL conversion (MQL efficiency) and MQL→SAL acceptance", ConversionBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.conversion(form.period, form.filters, view=form.selected_view, as_of=as_of)
        return {
            "mql_to_sql": rate(result.mql_to_sql, metrics.Conversion.formula_sql, self.slug, "sqls"),
            "mql_to_sal": rate(result.mql_to_sal, metrics.Conversion.formula_sal, self.slug, "sals"),
            **{name: count(getattr(result, name), self.slug, name) for name in ("mqls", "sals", "sqls")},
        }


class SlaComplianceView(ReportView):
    slug, formula = "sla_compliance", metrics.SlaCompliance.formula

    @documented("SLA compliance: MQLs answered within their window", SlaComplianceBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.sla_compliance(form.period, form.filters, as_of=as_of)
        return {
            "compliance": rate(result.rate, self.formula, self.slug, "within"),
            **{name: count(getattr(result, name), self.slug, name) for name in ("closed", "within", "late", "never")},
        }


class SpeedToLeadView(ReportView):
    slug, formula = "speed_to_lead", metrics.SpeedToLead.formula

    @documented("Speed to lead: time from MQL to first follow-up, by band and rep (seconds)", SpeedToLeadBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.speed_to_lead(form.period, form.filters, as_of=as_of)
        hour, sla = "answered within 1 hour ÷ answered × 100", "answered within the SLA window ÷ answered × 100"
        return {
            "responded": count(result.responded, self.slug, "responded"),
            "median_seconds": _seconds(result.median),
            "mean_seconds": _seconds(result.mean),
            "p90_seconds": _seconds(result.p90),
            "typical_window_seconds": _seconds(result.typical_window),
            "misses_sla": result.misses_sla,
            "within_hour": rate(result.within_hour_share, hour, self.slug, "within_hour"),
            "within_sla": rate(result.within_sla_share, sla, self.slug, "within_sla"),
            "bands": [
                {
                    "label": label,
                    "count": value,
                    "percent": _percent(share.percent),
                    "leads_url": count(value, self.slug, f"band_{index}")["leads_url"],
                }
                for index, (label, value, share) in enumerate(result.bands)
            ],
            "by_rep": [
                {
                    "rep": rep.rep_id,
                    "name": rep.rep_name,
                    "responded": count(rep.responded, self.slug, "responded", rep=rep.rep_id),
                    "mean_seconds": _seconds(rep.mean),
                    "within_hour": rate(rep.within_hour_share, hour, self.slug, "within_hour", rep=rep.rep_id),
                    "within_sla": rate(rep.within_sla_share, sla, self.slug, "within_sla", rep=rep.rep_id),
                }
                for rep in result.by_rep
            ],
        }


class RejectionReasonsView(ReportView):
    slug, formula = "rejection_reasons", metrics.RejectionReasons.formula

    @documented("Rejection reasons: share, weekly trend, split by source and campaign", RejectionReasonsBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.rejection_reasons(form.period, form.filters, as_of=as_of)

        def split(rows, name):
            return [
                {
                    "value": value,
                    "code": code,
                    "count": n,
                    "leads_url": count(n, self.slug, "rejected", reason=code, **{name: value})["leads_url"]
                    if value
                    else None,
                }
                for value, code, n in rows
            ]

        return {
            "rejections": count(result.total, self.slug, "rejected"),
            "reasons": [
                {
                    "code": r.code,
                    "label": r.label,
                    "count": r.count,
                    "percent": _percent(r.share.percent),
                    "from_mql": r.from_mql,
                    "from_sal": r.from_sal,
                    "leads_url": count(r.count, self.slug, "rejected", reason=r.code)["leads_url"],
                }
                for r in result.reasons
            ],
            "trend": [
                {"week": week, "code": code, "count": n} for week, counts in result.trend for code, n in counts.items()
            ],
            "by_source": split(result.by_source, "source"),
            "by_campaign": split(result.by_campaign, "campaign"),
        }


class ConversationRateView(ReportView):
    slug, formula = "conversation_rate", metrics.ConversationRate.formula

    @documented("Conversation rate of contacted leads, MQLs vs colder leads", ConversationRateBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.conversation_rate(form.period, form.filters)
        groups = {"mql": result.mql, "colder": result.colder}
        return {
            key: {
                "contacted": count(ratio.denominator, self.slug, f"{key}_contacted"),
                "conversations": count(ratio.numerator, self.slug, f"{key}_conversations"),
                "rate": rate(ratio, self.formula, self.slug, f"{key}_conversations"),
            }
            for key, ratio in groups.items()
        }


class MqlTargetView(ReportView):
    slug, formula = "mql_target", metrics.MqlTarget.formula

    @documented("MQLs produced per month vs the month's target", MqlTargetBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        result = metrics.mql_target(form.period, form.filters, as_of=as_of)
        base = self.request.build_absolute_uri(reverse("reports_api:leads"))
        months = []
        for month in result.months:
            period = metrics.month_part(form.period, month.month)
            query = form.query(as_of=as_of, period=period, metric=self.slug, bucket="mqls")
            months.append(
                {
                    "month": month.month,
                    "mqls": {"count": month.mqls, "leads_url": f"{base}?{query}"},
                    "target": month.target,
                    "percent": _percent(month.attainment.percent),
                }
            )
        return {"months": months}


class OverviewView(ReportView):
    slug, formula = "overview", "the headline number of every report"

    @documented("The headline number of every report", OverviewBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        period, filters = form.period, form.filters
        ignore = metrics.ignore_rate(period, filters, as_of=as_of)
        conversion = metrics.conversion(period, filters, view=form.selected_view, as_of=as_of)
        sla = metrics.sla_compliance(period, filters, as_of=as_of)
        speed = metrics.speed_to_lead(period, filters, as_of=as_of)
        rejections = metrics.rejection_reasons(period, filters, as_of=as_of)
        talks = metrics.conversation_rate(period, filters)
        return {
            "mqls": count(ignore.mqls, "ignore_rate", "mqls"),
            "ignore_rate": rate(ignore.rate, metrics.IgnoreRate.formula, "ignore_rate", "ignored"),
            "awaiting": count(ignore.awaiting, "ignore_rate", "awaiting"),
            "mql_to_sal": rate(conversion.mql_to_sal, metrics.Conversion.formula_sal, "conversion", "sals"),
            "mql_to_sql": rate(conversion.mql_to_sql, metrics.Conversion.formula_sql, "conversion", "sqls"),
            "sla_compliance": rate(sla.rate, metrics.SlaCompliance.formula, "sla_compliance", "within"),
            "median_response_seconds": _seconds(speed.median),
            "misses_sla": speed.misses_sla,
            "rejections": count(rejections.total, "rejection_reasons", "rejected"),
            "mql_conversation_rate": rate(
                talks.mql, metrics.ConversationRate.formula, "conversation_rate", "mql_conversations"
            ),
            "colder_conversation_rate": rate(
                talks.colder, metrics.ConversationRate.formula, "conversation_rate", "colder_conversations"
            ),
        }


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


class LeadsView(APIView):
    """The leads behind one number of a report, newest MQL first, paginated."""

    permission_classes = [permissions.IsAuthenticated, HasReportRole]
    schema = ReportSchema()
    pagination_class = LeadPagination

    @extend_schema(
        summary="The leads behind one number of a report (follow a leads_url)",
        parameters=LEADS_PARAMETERS,
        responses={
            200: LeadsBody,
            **ERRORS,
            404: OpenApiResponse(
                inline_serializer("ReportPageNotFound", {"detail": serializers.CharField()}),
                description="No such page of results.",
            ),
        },
    )
    def get(self, request):
        form = DrillDownForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        as_of = form.selected_as_of or timezone.now()
        title, rows, found = form.leads()
        if rows == metrics.EPISODE_ROWS:
            found = found.select_related("lead", "owner", "rejection_reason").order_by("-mql_at", "-id")
        else:
            found = found.select_related("owner").order_by("-first_contact", "-id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(found, request, view=self)
        results = [self.row(item, rows, as_of) for item in page]
        data = form.cleaned_data
        return Response(
            {
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "metric": data["metric"],
                "bucket": data["bucket"],
                "title": title,
                "as_of": as_of,
                **form.echo(),
                "results": results,
            }
        )

    def row(self, item, rows, as_of):
        episode = item if rows == metrics.EPISODE_ROWS else None
        lead = episode.lead if episode else item
        owner = episode.owner if episode else item.owner
        return {
            "lead": lead.pk,
            "lead_url": self.request.build_absolute_uri(reverse("api:lead-detail", args=[lead.pk])),
            "name": lead.name,
            "company": lead.company,
            "owner": owner.pk if owner else None,
            "owner_name": (owner.get_full_name() or owner.get_username()) if owner else "",
            "source": episode.source if episode else lead.source,
            "campaign": episode.campaign if episode else lead.campaign,
            "episode": episode.number if episode else None,
            **{
                name: getattr(episode, name) if episode else None
                for name in ("mql_at", "due_at", "first_follow_up_at", "accepted_at", "qualified_at", "rejected_at")
            },
            "outcome": episode_outcome(episode, as_of) if episode else "",
            "rejection_reason": episode.rejection_reason.code if episode and episode.rejection_reason else None,
            "rejection_note": episode.rejection_note if episode else "",
            "first_contact_at": None if episode else item.first_contact,
            "had_conversation": None if episode else item.had_conversation,
        }


urlpatterns = [
    path("overview/", OverviewView.as_view(), name="overview"),
    path("ignore-rate/", IgnoreRateView.as_view(), name="ignore-rate"),
    path("conversion/", ConversionView.as_view(), name="conversion"),
    path("speed-to-lead/", SpeedToLeadView.as_view(), name="speed-to-lead"),
    path("sla-compliance/", SlaComplianceView.as_view(), name="sla-compliance"),
    path("rejection-reasons/", RejectionReasonsView.as_view(), name="rejection-reasons"),
    path("conversation-rate/", ConversationRateView.as_view(), name="conversation-rate"),
    path("mql-target/", MqlTargetView.as_view(), name="mql-target"),
    path("leads/", LeadsView.as_view(), name="leads"),
]
