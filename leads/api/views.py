"""The leads API. Each action turns a request into one call of ``leads.transitions``
and the lead it returns into a response; a refused move becomes 400/403/409 in
``leads.api.errors``.

A lead's GET (and every answer that returns a lead) carries an ``ETag`` naming the
lead's version, ``"lead-<id>-v<version>"``. Every action and PATCH takes the version
the client saw, as ``version`` in the body or that ETag as ``If-Match``: if the lead
changed since, the answer is 409 and nothing changes. A malformed If-Match is a 400.
A request with neither acts on the lead as it is (older clients keep working); the
pages and our own scripts always send it.

Every lead is fetched through ``visible_leads(user)``: a lead the user may not
see answers 404, exactly like one that does not exist.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.template import engines
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularRedocView
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotFound, PermissionDenied, UnsupportedMediaType, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.utils.urls import replace_query_param

from funnelapp import signin
from leads import access, lead_list, privacy, scoring, transitions
from leads.models import RejectionReason

from .filters import FilterBackend, LeadFilter
from .parsers import JSONParser
from .serializers import (
    ActivityInput,
    LeadCreateSerializer,
    LeadEventSerializer,
    LeadScoreSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
    MergeInput,
    MergePlan,
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
    429: OpenApiResponse(
        ErrorDetail,
        description="Too many requests (throttled), or too many failed sign-ins (locked out): "
        "the Retry-After header says how many seconds to wait.",
    ),
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

ETAG = re.compile(r'"lead-([0-9]{1,20})-v([0-9]{1,20})"')
ETAG_HEADER = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description='The lead\'s version, "lead-<id>-v<version>": send it back as If-Match with an action or PATCH.',
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag of the lead as the client last saw it, e.g. "lead-42-v7" (or send version in the body). '
    "If the lead changed since, the answer is 409 and nothing changes; a malformed value is a 400.",
)


def act_schema(summary, request):
    """The schema of an action: its input, the lead it returns with its ETag, the version it takes as If-Match."""
    # JSON only: a form body cannot say "not an object", and every action field is optional.
    return extend_schema(
        summary=summary,
        request={"application/json": request},
        responses=ACTION_RESPONSES,
        parameters=[IF_MATCH, ETAG_HEADER],
    )


def etag(lead):
    return f'"lead-{lead.pk}-v{lead.version}"'


def version_seen(request, lead, version=None):
    """The version of ``lead`` the client saw: ``version`` from the body, or the ETag in If-Match (if both, they
    must agree); None if it sent neither. Raises ValidationError for a malformed If-Match or one of another lead."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return version
    match = ETAG.fullmatch(header)
    if match is None:
        message = gettext("Send the ETag of the lead's GET, e.g. %(etag)s, or no If-Match.") % {"etag": etag(lead)}
        raise ValidationError({"If-Match": [message]})
    if int(match[1]) != lead.pk:
        message = gettext("This is the ETag of lead %(other)s, not of lead %(lead)s.") % {
            "other": match[1],
            "lead": lead.pk,
        }
        raise ValidationError({"If-Match": [message]})
    if version is not None and version != int(match[2]):
        raise ValidationError(
            {"version": [gettext("The version in the body and the one in If-Match differ; send one.")]}
        )
    return int(match[2])


def page_size_error(largest):
    return gettext("Use a whole number from 1 to %(largest)s.") % {"largest": largest}


class LeadPagination(PageNumberPagination):
    """Numbered pages with their count (``page=``), or keyset pages (``cursor=``, empty for the first).

    Counting a million leads costs more than reading a page of them; a client that walks the whole
    list (a sync) asks for ``cursor=`` and follows ``next``: each page is an index read, page 2,000
    as fast as page 1, and the answer has no ``count`` or ``previous``.
    """

    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    # The orders keyset pages follow (``ordering=``) -> the lead list's sort of the same order.
    CURSOR_SORTS = {
        "": "newest",
        "-created_at": "newest",
        "created_at": "oldest",
        "sla_due_at": "due",
        "-score": "score",
    }

    def get_page_size(self, request):
        # DRF quietly falls back to the default size on a bad value; say so instead.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [page_size_error(self.max_page_size)]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = self.cursor_query_param in request.query_params
        if not self.keyset:
            return super().paginate_queryset(queryset, request, view)
        if self.page_query_param in request.query_params:
            raise ValidationError({self.cursor_query_param: [gettext("Give a cursor or a page number, not both.")]})
        ordering = request.query_params.get("ordering", "")
        if ordering not in self.CURSOR_SORTS:
            raise ValidationError(
                {
                    "ordering": [
                        gettext(
                            "Cursor pages follow ordering=-created_at (the default), created_at, sla_due_at or "
                            "-score; use page= for other orders."
                        )
                    ]
                }
            )
        sort_name = self.CURSOR_SORTS[ordering]
        sort = lead_list.SORTS[sort_name]
        field = lead_list.CursorField(required=False)
        try:
            position = field.clean(request.query_params[self.cursor_query_param])
        except DjangoValidationError as error:
            raise ValidationError({self.cursor_query_param: error.messages}) from None
        rows = queryset.order_by(*sort.order_by())
        if position is not None:
            cursor_sort, key, pk = position
            if cursor_sort != sort_name:
                raise ValidationError(
                    {
                        self.cursor_query_param: [
                            gettext("This cursor belongs to another order; start again without one.")
                        ]
                    }
                )
            rows = rows.filter(lead_list.rows_after(sort, key, pk))
        size = self.get_page_size(request)
        page = list(rows[: size + 1])
        self.request = request
        self.next_cursor = lead_list.cursor_for(sort_name, page[size - 1]) if len(page) > size else None
        return page[:size]

    def get_paginated_response(self, data):
        if not self.keyset:
            return super().get_paginated_response(data)
        following = None
        if self.next_cursor:
            following = replace_query_param(
                self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor
            )
        return Response({"next": following, "results": data})

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        # Keyset pages (cursor=) answer with next and results only.
        described["required"] = ["results"]
        described["properties"]["count"]["description"] = "The number of leads in all pages (numbered pages only)."
        described["properties"]["previous"]["description"] = "Numbered pages only."
        return described

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset pages: empty for the first page, then the cursor in the last page's next "
                "link. No count; page 2,000 is as fast as page 1. Orders: -created_at (default), created_at, "
                "sla_due_at, -score.",
                "schema": {"type": "string"},
            }
        )
        return parameters


class CanCreateLeads(permissions.BasePermission):
    message = gettext_lazy("Only marketers and admins may create leads.")

    def has_permission(self, request, view):
        return access.can_create_leads(request.user)


@extend_schema_view(
    list=extend_schema(
        summary="List the leads you may see",
        responses=documented({200: LeadSerializer(many=True)}, 400, 401, 404),
    ),
    retrieve=extend_schema(
        summary="One lead, with its version as ETag",
        responses=documented({200: LeadSerializer}, 401, 404),
        parameters=[ETAG_HEADER],
    ),
    create=extend_schema(
        summary="Create a lead (marketers and admins)",
        request=LeadCreateSerializer,
        responses=documented({201: LeadSerializer}, 400, 401, 403, 429),
    ),
    partial_update=extend_schema(
        summary="Change a lead's details (marketers and admins): one 'updated' event, a rescore",
        # JSON only: in form encodings DRF reads an empty field of a partial update as absent.
        request={"application/json": LeadUpdateSerializer},
        responses=documented({200: LeadSerializer}, 400, 401, 403, 404, 409, 415),
        parameters=[IF_MATCH, ETAG_HEADER],
    ),
)
class LeadViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LeadSerializer
    filter_backends = [FilterBackend]
    filterset_class = LeadFilter
    pagination_class = LeadPagination
    # A malformed id falls through to the JSON 404 of ``not_found``, like an unknown one.
    lookup_value_regex = "[0-9]+"
    throttle_scope = "ingest"

    def get_queryset(self):
        return access.visible_leads(self.request.user).select_related("owner", "team", "rejection_reason", "account")

    def get_object(self):
        # Unlike DRF's default, list filters in the query string do not apply to one lead.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), CanCreateLeads()]
        return super().get_permissions()

    def get_throttles(self):
        # Creating leads is ingestion (integrations, scripts); reading and acting are not throttled.
        return [ScopedRateThrottle()] if self.action == "create" else []

    def create(self, request):
        params = LeadCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        lead = transitions.create_lead(by=request.user, **params.validated_data)
        data = self.get_serializer(lead).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": str(data["url"])})

    def partial_update(self, request, pk=None):
        lead = self.get_object()
        if request.content_type.split(";")[0].strip() != "application/json":
            raise UnsupportedMediaType(
                request.content_type, detail=gettext("Send the changes as JSON (application/json).")
            )
        params = LeadUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        fields = dict(params.validated_data)
        version = version_seen(request, lead, fields.pop("version", None))
        return self._lead_response(transitions.update_lead(lead, by=request.user, version=version, **fields))

    def retrieve(self, request, pk=None):
        return self._lead_response(self.get_object())

    def _lead_response(self, lead):
        return Response(self.get_serializer(lead).data, headers={"ETag": etag(lead)})

    def _act(self, transition, params_class):
        lead = self.get_object()
        params = params_class(data=self.request.data)
        params.is_valid(raise_exception=True)
        arguments = dict(params.validated_data)
        arguments["version"] = version_seen(self.request, lead, arguments.get("version"))
        return self._lead_response(transition(lead, by=self.request.user, **arguments))

    @act_schema("Promote a lead to MQL and route it to a rep", PromoteInput)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        return self._act(transitions.promote_to_mql, PromoteInput)

    @act_schema("Accept an MQL (it becomes a SAL)", NoteInput)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._act(transitions.accept_lead, NoteInput)

    @act_schema("Reject an MQL with a reason code", ReasonInput)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(transitions.reject_lead, ReasonInput)

    @act_schema("Qualify an accepted lead to SQL", NoteInput)
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        return self._act(transitions.qualify_lead, NoteInput)

    @act_schema("Disqualify an accepted lead with a reason code", ReasonInput)
    @action(detail=True, methods=["post"])
    def disqualify(self, request, pk=None):
        return self._act(transitions.disqualify_lead, ReasonInput)

    @act_schema("Recycle a rejected lead back to nurture", NoteInput)
    @action(detail=True, methods=["post"])
    def recycle(self, request, pk=None):
        return self._act(transitions.recycle_lead, NoteInput)

    @act_schema("Give a lead to another rep of its team", ReassignInput)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._act(transitions.reassign_lead, ReassignInput)

    @act_schema("Log a sales activity", ActivityInput)
    @action(detail=True, methods=["post"])
    def activities(self, request, pk=None):
        return self._act(transitions.log_activity, ActivityInput)

    @extend_schema(
        summary="Undo your accept, reject or qualify of this lead (within 10 minutes)",
        description="Appends an 'undone' event naming the event it reverses; the lead's stage, owner, episode and "
        "SLA due time return to what they were. 409 with a sentence when there is nothing of yours to undo, it is "
        "too late, or someone acted on the lead since.",
        request={"application/json": VersionInput},
        responses=ACTION_RESPONSES,
        parameters=[IF_MATCH, ETAG_HEADER],
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        return self._act(transitions.undo_lead, VersionInput)

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
            raise PermissionDenied(gettext("Only admins may export a person's data."))
        lead = self.get_object()
        filename = f"funnel-lead-{lead.pk}-personal-data.json"
        return Response(
            privacy.export_person(lead), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    @extend_schema(
        summary="Merge this lead into another as its duplicate (marketers, admins); dry_run says what would happen",
        request={"application/json": MergeInput},
        responses=documented({200: MergePlan}, 400, 401, 403, 404, 409),
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        lead = self.get_object()
        params = MergeInput(data=request.data)
        params.is_valid(raise_exception=True)
        arguments = dict(params.validated_data)
        into = self.get_queryset().filter(pk=arguments.pop("into")).first()
        if into is None:
            raise ValidationError({"into": [gettext("No lead you can see has this id.")]})
        arguments["version"] = version_seen(request, lead, arguments.get("version"))
        _lead, plan = transitions.merge_lead(lead, by=request.user, into=into, **arguments)
        return Response(plan)

    @act_schema("Undo a merge: the lead gets back the stage it had", NoteInput)
    @action(detail=True, methods=["post"])
    def unmerge(self, request, pk=None):
        return self._act(transitions.unmerge_lead, NoteInput)

    @extend_schema(
        summary="A lead's history, oldest first",
        responses=documented({200: LeadEventSerializer(many=True)}, 401, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        events = self.get_object().events.select_related("actor", "reason").order_by("at", "id")
        return Response(LeadEventSerializer(events, many=True).data)

    @extend_schema(
        summary="Why a lead has its score: each rule's share, its points then and now (decay)",
        responses=documented({200: LeadScoreSerializer}, 401, 404),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def score(self, request, pk=None):
        lead = self.get_object()
        result = {
            "lead": lead.pk,
            "score": lead.score,
            "mql_threshold": scoring.threshold(),
            "shares": scoring.explain(lead),
        }
        return Response(LeadScoreSerializer(result).data)


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
    """Exchange a username and password for the user's API token; send it as ``Authorization: Token <key>``.

    Throttled per address, and locked out per username and address after repeated
    failures (``funnelapp.signin``): both answer 429 with Retry-After.
    """

    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        summary="Get the API token of a user (created on first request)",
        request=AuthTokenSerializer,
        auth=[],
        responses=documented({200: TokenResponse}, 400, 429),
    )
    def post(self, request, *args, **kwargs):
        params = self.get_serializer(data=request.data)
        if not params.is_valid():
            # django-axes marks the request it saw (DRF's) when this failure locks the username
            # or address out, or when it was locked out already; the right password is refused then too.
            if getattr(request, "axes_locked_out", False):
                return signin.lockout_response(request)
            raise ValidationError(params.errors)
        token, _ = Token.objects.get_or_create(user=params.validated_data["user"])
        return Response({"token": token.key})


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
    if request.path.endswith("/"):
        raise NotFound(gettext("No such API endpoint."))
    raise NotFound(gettext("No such API endpoint. API URLs end with a slash."))
