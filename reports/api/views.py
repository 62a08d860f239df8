"""The reports API's endpoints: the JSON twins of the report pages, and the leads behind each number.

A report endpoint reads the same form as its page, builds the same ``Report``
with the page's builder (its links pointing at this API's leads list) and
serializes it (``serializers``); it computes nothing of its own.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import access
from leads.api.views import LeadPagination

from .. import metrics, pages
from ..forms import DrillDownForm, ReportForm
from .schema import ERRORS, LEADS_PARAMETERS, ReportSchema, documented
from .serializers import (
    ConversationRateBody,
    ConversionBody,
    IgnoreRateBody,
    LeadsBody,
    MqlTargetBody,
    OverviewBody,
    RejectionReasonsBody,
    ResponseEffectBody,
    SlaComplianceBody,
    SpeedToLeadBody,
    WaterfallBody,
)


class HasReportRole(permissions.BasePermission):
    message = gettext_lazy("Reports are for users with a role: rep, manager, marketer or admin.")

    def has_permission(self, request, view):
        return access.has_role(request.user, *access.ROLES)


class ReportView(APIView):
    """A report's numbers, as its page shows them, for the period and filters asked for, each with the URL of the leads behind it."""

    # Subclasses name the page's builder and the serializer of its answer.
    permission_classes = [permissions.IsAuthenticated, HasReportRole]
    schema = ReportSchema()
    build = None
    body = None

    def get(self, request):
        form = ReportForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(form.error_messages())
        as_of = form.selected_as_of or timezone.now()
        leads_url = request.build_absolute_uri(reverse("reports_api:leads"))
        report = self.build(form, as_of, leads_url=leads_url)
        answer = {
            "report": report.info.slug,
            "formula": report.info.formula,
            "as_of": as_of,
            "view": form.selected_view,
            **form.echo(),
            **report.data,
        }
        return Response(self.body(answer).data)


@extend_schema_view(
    get=documented("Ignore Rate: MQLs never followed up after their SLA window expired, by rep", IgnoreRateBody)
)
class IgnoreRateView(ReportView):
    build, body = staticmethod(pages.BUILDERS["ignore_rate"]), IgnoreRateBody


@extend_schema_view(get=documented("MQL→SQL conversion (MQL efficiency) and MQL→SAL acceptance", ConversionBody))
class ConversionView(ReportView):
    build, body = staticmethod(pages.BUILDERS["conversion"]), ConversionBody


@extend_schema_view(get=documented("SLA compliance: MQLs answered within their window", SlaComplianceBody))
class SlaComplianceView(ReportView):
    build, body = staticmethod(pages.BUILDERS["sla_compliance"]), SlaComplianceBody


@extend_schema_view(
    get=documented("Speed to lead: time from MQL to first follow-up, by band and rep (seconds)", SpeedToLeadBody)
)
class SpeedToLeadView(ReportView):
    build, body = staticmethod(pages.BUILDERS["speed_to_lead"]), SpeedToLeadBody


@extend_schema_view(
    get=documented("Rejection reasons: share, weekly trend, split by source and campaign", RejectionReasonsBody)
)
class RejectionReasonsView(ReportView):
    build, body = staticmethod(pages.BUILDERS["rejection_reasons"]), RejectionReasonsBody


@extend_schema_view(get=documented("Conversation rate of contacted leads, MQLs vs colder leads", ConversationRateBody))
class ConversationRateView(ReportView):
    build, body = staticmethod(pages.BUILDERS["conversation_rate"]), ConversationRateBody


@extend_schema_view(get=documented("MQLs produced per month vs the month's target", MqlTargetBody))
class MqlTargetView(ReportView):
    build, body = staticmethod(pages.BUILDERS["mql_target"]), MqlTargetBody


@extend_schema_view(
    get=documented("The demand waterfall: counts, step conversion, time in each stage, by cohort month", WaterfallBody)
)
class WaterfallView(ReportView):
    build, body = staticmethod(pages.BUILDERS["waterfall"]), WaterfallBody


@extend_schema_view(
    get=documented("Response-time effect: SQL rate of MQLs answered within an hour vs later", ResponseEffectBody)
)
class ResponseEffectView(ReportView):
    build, body = staticmethod(pages.BUILDERS["response_effect"]), ResponseEffectBody


@extend_schema_view(get=documented("The headline numbers of every report, as the overview's cards", OverviewBody))
class OverviewView(ReportView):
    build, body = staticmethod(pages.build_overview), OverviewBody


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
        results = [self.row(item, rows) for item in page]
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

    def row(self, item, rows):
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
            "outcome": metrics.Outcome(episode.outcome).label if episode else "",
            "rejection_reason": episode.rejection_reason.code if episode and episode.rejection_reason else None,
            "rejection_note": episode.rejection_note if episode else "",
            "first_contact_at": None if episode else item.first_contact,
            "had_conversation": None if episode else item.had_conversation,
        }
