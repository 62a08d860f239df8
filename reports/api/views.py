"""The reports API's endpoints: read the report form, ask ``reports.metrics``, answer with links to the leads."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import access
from leads.api.views import LeadPagination

from .. import metrics
from ..forms import DrillDownForm, ReportForm
from ..templatetags.reports_ui import episode_outcome
from .schema import ERRORS, LEADS_PARAMETERS, ReportSchema, documented
from .serializers import (
    ConversationRateBody,
    ConversionBody,
    IgnoreRateBody,
    LeadsBody,
    MqlTargetBody,
    OverviewBody,
    RejectionReasonsBody,
    SlaComplianceBody,
    SpeedToLeadBody,
)


class HasReportRole(permissions.BasePermission):
    message = "Reports are for users with a role: rep, manager, marketer or admin."

    def has_permission(self, request, view):
        return access.has_role(request.user, *access.ROLES)


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
        return {
            "months": [
                {
                    "month": month.month,
                    "mqls": count(month.mqls, self.slug, "mqls", period=metrics.month_part(form.period, month.month)),
                    "target": month.target,
                    "percent": _percent(month.attainment.percent),
                }
                for month in result.months
            ]
        }


class OverviewView(ReportView):
    slug, formula = "overview", "the headline number of every report"

    @documented("The headline number of every report", OverviewBody)
    def get(self, request):
        return super().get(request)

    def numbers(self, form, as_of, count, rate):
        period, filters = form.period, form.filters
        headlines = metrics.episode_headlines(period, filters, as_of=as_of)
        ignore, sla, speed = headlines.ignore_rate, headlines.sla_compliance, headlines.speed
        conversion = metrics.conversion(period, filters, view=form.selected_view, as_of=as_of)
        rejections = metrics.rejection_count(period, filters, as_of=as_of)
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
            "rejections": count(rejections, "rejection_reasons", "rejected"),
            "mql_conversation_rate": rate(
                talks.mql, metrics.ConversationRate.formula, "conversation_rate", "mql_conversations"
            ),
            "colder_conversation_rate": rate(
                talks.colder, metrics.ConversationRate.formula, "conversation_rate", "colder_conversations"
            ),
        }


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
        # A lead the user no longer sees (recycled, now another rep's) keeps its row, not its details.
        visible = item.lead_visible
        return {
            "lead": lead.pk,
            "lead_visible": visible,
            "lead_url": self.request.build_absolute_uri(reverse("api:lead-detail", args=[lead.pk]))
            if visible
            else None,
            "name": lead.name if visible else "",
            "company": lead.company if visible else "",
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
