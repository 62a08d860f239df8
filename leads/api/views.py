"""The leads API. Each action turns a request into one call of ``leads.transitions``
and the lead it returns into a response; a refused move becomes 400/403/409 in
``leads.api.errors``.

Every lead is fetched through ``visible_leads(user)``: a lead the user may not
see answers 404, exactly like one that does not exist.
"""

from django.shortcuts import get_object_or_404
from django.template import engines
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotFound, PermissionDenied, UnsupportedMediaType, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response

from leads import access, privacy, transitions
from leads.models import RejectionReason

from .filters import FilterBackend, LeadFilter
from .serializers import (
    ActivityInput,
    LeadCreateSerializer,
    LeadEventSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
    NoteInput,
    OptOutInput,
    PromoteInput,
    ReasonInput,
    ReassignInput,
    RejectionReasonSerializer,
    VersionInput,
)

ErrorDetail = inline_serializer(
    "ErrorDetail",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False, help_text="conflict, permission_denied, ..."),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description='Invalid input: {"field": ["message", ...]} per field, or {"detail": "message"}.',
    ),
    401: OpenApiResponse(ErrorDetail, description="Not authenticated."),
    403: OpenApiResponse(ErrorDetail, description="Not allowed: wrong role, not your lead to act on, or CSRF failure."),
    404: OpenApiResponse(ErrorDetail, description="No such lead, or not one you may see."),
    415: OpenApiResponse(ErrorDetail, description="The body is not in a media type this operation reads."),
    409: OpenApiResponse(
        ErrorDetail,
        description="Refused: the lead's stage does not allow this move, or someone changed it at the same moment. "
        "Nothing was changed.",
    ),
}


def documented(ok, *errors):
    """The responses of an operation: ``ok`` (a {status: serializer} dict) plus the listed error codes."""
    return {**ok, **{code: ERROR_RESPONSES[code] for code in errors}}


ACTION_RESPONSES = documented({200: LeadSerializer}, 400, 401, 403, 404, 409)
# Actions are documented with JSON bodies only: a form body cannot say "not an object", so a
# fuzzer's array sent as multipart would read as an empty form (every field is optional).


class LeadPagination(PageNumberPagination):
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


class CanCreateLeads(permissions.BasePermission):
    message = "Only marketers and admins may create leads."

    def has_permission(self, request, view):
        return access.can_create_leads(request.user)


@extend_schema_view(
    list=extend_schema(
        summary="List the leads you may see",
        responses=documented({200: LeadSerializer(many=True)}, 400, 401, 404),
    ),
    retrieve=extend_schema(summary="One lead", responses=documented({200: LeadSerializer}, 401, 404)),
    create=extend_schema(
        summary="Create a lead (marketers and admins)",
        request=LeadCreateSerializer,
        responses=documented({201: LeadSerializer}, 400, 401, 403),
    ),
    partial_update=extend_schema(
        summary="Change a lead's details (marketers and admins): one 'updated' event, a rescore",
        # JSON only: in form encodings DRF reads an empty field of a partial update as absent.
        request={"application/json": LeadUpdateSerializer},
        responses=documented({200: LeadSerializer}, 400, 401, 403, 404, 409, 415),
    ),
)
class LeadViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LeadSerializer
    filter_backends = [FilterBackend]
    filterset_class = LeadFilter
    pagination_class = LeadPagination
    # A malformed id falls through to the JSON 404 of ``not_found``, like an unknown one.
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return access.visible_leads(self.request.user).select_related("owner", "team", "rejection_reason")

    def get_object(self):
        # Unlike DRF's default, list filters in the query string do not apply to one lead.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), CanCreateLeads()]
        return super().get_permissions()

    def create(self, request):
        params = LeadCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        lead = transitions.create_lead(by=request.user, **params.validated_data)
        data = self.get_serializer(lead).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])})

    def partial_update(self, request, pk=None):
        lead = self.get_object()
        if request.content_type.split(";")[0].strip() != "application/json":
            raise UnsupportedMediaType(request.content_type, detail="Send the changes as JSON (application/json).")
        params = LeadUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        fields = dict(params.validated_data)
        version = fields.pop("version", None)
        lead = transitions.update_lead(lead, by=request.user, version=version, **fields)
        return Response(self.get_serializer(lead).data)

    def _act(self, transition, params_class):
        lead = self.get_object()
        params = params_class(data=self.request.data)
        params.is_valid(raise_exception=True)
        lead = transition(lead, by=self.request.user, **params.validated_data)
        return Response(self.get_serializer(lead).data)

    @extend_schema(
        summary="Promote a lead to MQL and route it to a rep",
        request={"application/json": PromoteInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        return self._act(transitions.promote_to_mql, PromoteInput)

    @extend_schema(
        summary="Accept an MQL (it becomes a SAL)", request={"application/json": NoteInput}, responses=ACTION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._act(transitions.accept_lead, NoteInput)

    @extend_schema(
        summary="Reject an MQL with a reason code",
        request={"application/json": ReasonInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(transitions.reject_lead, ReasonInput)

    @extend_schema(
        summary="Qualify an accepted lead to SQL", request={"application/json": NoteInput}, responses=ACTION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        return self._act(transitions.qualify_lead, NoteInput)

    @extend_schema(
        summary="Disqualify an accepted lead with a reason code",
        request={"application/json": ReasonInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        return self._act(transitions.disqualify_lead, ReasonInput)

    @extend_schema(
        summary="Recycle a rejected lead back to nurture",
        request={"application/json": NoteInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def recycle(self, request, pk=None):
        return self._act(transitions.recycle_lead, NoteInput)

    @extend_schema(
        summary="Give a lead to another rep of its team",
        request={"application/json": ReassignInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._act(transitions.reassign_lead, ReassignInput)

    @extend_schema(
        summary="Log a sales activity", request={"application/json": ActivityInput}, responses=ACTION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def activities(self, request, pk=None):
        return self._act(transitions.log_activity, ActivityInput)

    @extend_schema(
        summary="Record that the person opted out of marketing, with how it reached us",
        request={"application/json": OptOutInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request, pk=None):
        return self._act(transitions.opt_out_lead, OptOutInput)

    @extend_schema(
        summary="Erase the person's data (admins; GDPR Art. 17): personal fields blanked, notes redacted, "
        "funnel facts kept",
        description="Cannot be undone. The e-mail address is remembered only as a keyed hash, so it is refused "
        "if someone creates or imports it again. Reports give the same numbers before and after.",
        request={"application/json": VersionInput},
        responses=ACTION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        return self._act(transitions.erase_lead, VersionInput)

    @extend_schema(
        summary="Everything held about the person, as JSON (admins; GDPR Art. 15 and 20)",
        responses=documented({200: OpenApiTypes.OBJECT}, 401, 403, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def export(self, request, pk=None):
        if not access.can_export_personal_data(request.user):
            raise PermissionDenied("Only admins may export a person's data.")
        lead = self.get_object()
        filename = f"funnel-lead-{lead.pk}-personal-data.json"
        return Response(
            privacy.export_person(lead), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    @extend_schema(
        summary="A lead's history, oldest first",
        responses=documented({200: LeadEventSerializer(many=True)}, 401, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        events = self.get_object().events.select_related("actor", "reason").order_by("at", "id")
        return Response(LeadEventSerializer(events, many=True).data)


@extend_schema(
    summary="The rejection reasons reps may choose",
    responses=documented({200: RejectionReasonSerializer(many=True)}, 401),
)
class RejectionReasonList(ListAPIView):
    queryset = RejectionReason.objects.filter(is_active=True)
    serializer_class = RejectionReasonSerializer
    pagination_class = None
    filter_backends = []


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()


class ObtainToken(ObtainAuthToken):
    """Exchange a username and password for the user's API token; send it as ``Authorization: Token <key>``."""

    @extend_schema(
        summary="Get the API token of a user (created on first request)",
        request=AuthTokenSerializer,
        auth=[],
        responses=documented({200: TokenResponse}, 400),
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class OfflineRedocRenderer(TemplateHTMLRenderer):
    # drf-spectacular's Redoc page pulls fonts from Google; the docs are served
    # locally only, so the page falls back to system fonts instead.
    page = """{% extends "drf_spectacular/redoc.html" %}{% block head %}<title>{{ title }}</title>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>{% endblock head %}"""

    def resolve_template(self, template_names):
        return engines["django"].from_string(self.page)


class RedocView(SpectacularRedocView):
    renderer_classes = [OfflineRedocRenderer]


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([permissions.AllowAny])
def not_found(request, path=""):
    """Unknown URLs under /api/ answer JSON, like every other API response."""
    hint = "" if request.path.endswith("/") else " API URLs end with a slash."
    raise NotFound(f"No such API endpoint.{hint}")
