"""Activity ingestion for integrations: POST /api/activities/ records one behaviour
event or a batch of up to 1,000, idempotent by an optional ``external_id``.

A request is all or nothing: every item is validated (shape, then its lead) before
anything is stored, and one bad item answers 400 with its index and field. Storing
and scoring are ``leads.activities.record_activities``: stored activities score
their leads at once, and a lead that reaches the threshold is promoted.

Sales activities (call, e-mail, meeting, conversation) are not taken here: they are
a rep's follow-up and stop the SLA clock, so they go through
``POST /api/leads/{id}/activities/`` (``transitions.log_activity``), which checks
the rep's right to act and the lead's stage.
"""

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from leads import access, activities, privacy
from leads.models import SALES_ACTIVITY_KINDS, ActivityKind, Stage
from leads.transitions import MAX_NOTE_LENGTH

from .parsers import JSONParser
from .serializers import CharField, EmailField
from .views import ErrorDetail, documented

MAX_BATCH = 1000
# Integrations' clocks drift; a timestamp this far ahead of ours still counts as "now".
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_ACTIVITY = datetime(2000, 1, 1, tzinfo=UTC)

BEHAVIOUR_KINDS = [kind for kind in ActivityKind if kind not in SALES_ACTIVITY_KINDS]
LEAD_ACTIVITIES_PATH = "/api/leads/{id}/activities/"


# Input -----------------------------------------------------------------------


class BehaviourKindField(serializers.ChoiceField):
    default_error_messages = {
        "sales_kind": gettext_lazy(
            "{kind} is a sales activity: the rep logs it on the lead with POST /api/leads/{{id}}/activities/, "
            "where it counts as follow-up. This endpoint records behaviour: {choices}."
        ),
        "unknown_kind": gettext_lazy("{kind} is not a kind of activity; choose one of {choices}."),
    }

    def to_internal_value(self, data):
        choices = ", ".join(BEHAVIOUR_KINDS)
        if isinstance(data, str) and data in SALES_ACTIVITY_KINDS:
            self.fail("sales_kind", kind=repr(data), choices=choices)
        try:
            return super().to_internal_value(data)
        except ValidationError:
            self.fail("unknown_kind", kind=repr(data)[:60], choices=choices)


class PageUrlField(CharField):
    """An absolute http(s) URL, or a path on the company's own site starting with ``/``."""

    default_error_messages = {
        "invalid_url": gettext_lazy("Give an absolute http(s) URL or a path starting with /, e.g. /pricing."),
    }
    absolute = URLValidator(schemes=["http", "https"])

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return value
        if value.startswith("/") and not value.startswith("//"):
            if any(char.isspace() for char in value):
                self.fail("invalid_url")
            return value
        try:
            self.absolute(value)
        except DjangoValidationError:
            self.fail("invalid_url")
        return value


class BehaviourActivitySerializer(serializers.Serializer):
    """One behaviour event: which lead (by id or e-mail), what, when, and an optional id of the sender's own."""

    lead = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="Id of the lead. Give either this or email.",
    )
    email = EmailField(
        max_length=254, required=False, help_text="E-mail address of the lead (any case). Give either this or lead."
    )
    kind = BehaviourKindField(
        choices=[(kind.value, kind.label) for kind in BEHAVIOUR_KINDS],
        help_text="The behaviour. Sales activities are logged per lead: POST " + LEAD_ACTIVITIES_PATH,
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        help_text="When it happened (ISO 8601; without an offset, UTC). Defaults to now; "
        "not more than 5 minutes ahead, not before 2000.",
    )
    url = PageUrlField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Page visited or link clicked: absolute http(s) URL or a path like /pricing. "
        "Required for website_visit.",
    )
    note = CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True)
    external_id = CharField(
        max_length=100,
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The sender's own id of this event, unique across all senders (prefix it with your system's "
        "name, e.g. hubspot:4711). An activity whose external_id was stored before is not stored or scored "
        "again (answered as a duplicate), so a retried delivery is safe.",
    )

    def validate_occurred_at(self, value):
        now = self.context["now"]
        if value > now + CLOCK_SKEW:
            raise ValidationError(
                gettext("This is in the future (now is %(now)s); send when it happened.")
                % {"now": f"{now:%Y-%m-%dT%H:%M:%SZ}"}
            )
        if value < EARLIEST_ACTIVITY:
            raise ValidationError(gettext("This is before 2000; send when the activity happened."))
        return value

    def validate(self, attrs):
        if ("lead" in attrs) == ("email" in attrs):
            message = gettext("Identify the lead by its id (lead) or its e-mail address (email), not both.")
            if "lead" not in attrs:
                message = gettext("Identify the lead: give its id (lead) or its e-mail address (email).")
            raise ValidationError({"lead": [message]})
        if attrs["kind"] == ActivityKind.WEBSITE_VISIT and not attrs.get("url"):
            raise ValidationError({"url": [gettext("A website visit needs the URL or path of the page visited.")]})
        attrs.setdefault("occurred_at", self.context["now"])
        attrs["external_id"] = attrs.get("external_id") or None
        return attrs


def parse_activities(data, *, now):
    """Validate a request body, one activity object or a list of 1 to MAX_BATCH, and return its items.

    Raises ValidationError: field errors for a single object, ``{"items": {index: field errors}}``
    for a list; each item's lead must exist (one query for the whole batch).
    """
    context = {"now": now}
    if isinstance(data, dict):
        params = BehaviourActivitySerializer(data=data, context=context)
        params.is_valid(raise_exception=True)
        items = [dict(params.validated_data)]
        _attach_leads(items, is_batch=False)
        return items
    if not isinstance(data, list):
        raise ValidationError({"non_field_errors": [gettext("Send one activity (a JSON object) or a list of them.")]})
    if not data:
        raise ValidationError({"non_field_errors": [gettext("The list is empty: send at least one activity.")]})
    if len(data) > MAX_BATCH:
        message = gettext("Send at most %(most)s activities per request; this one has %(count)s.") % {
            "most": number_format(MAX_BATCH, force_grouping=True),
            "count": number_format(len(data), force_grouping=True),
        }
        raise ValidationError({"non_field_errors": [message]})
    params = BehaviourActivitySerializer(data=data, many=True, context=context)
    if not params.is_valid():
        errors = params.errors
        if isinstance(errors, list):  # DRF's older list format (LIST_SERIALIZER_ERRORS_AS_DICT off)
            errors = dict(enumerate(errors))
        raise ValidationError({"items": {str(index): item for index, item in errors.items() if item}})
    items = [dict(item) for item in params.validated_data]
    _attach_leads(items, is_batch=True)
    return items


def _attach_leads(items, *, is_batch):
    """Replace each item's lead id or e-mail address by ``item["lead_id"]``, in one query; unknown ones are a 400."""
    ids = {item["lead"] for item in items if "lead" in item}
    emails = {item["email"].lower() for item in items if "email" in item}
    by_id, by_email, erased = activities.known_leads(ids, emails)
    unknown = emails - set(by_email)
    # Only when some address is unknown: was it an erased person's? (one more query)
    erased_addresses = privacy.erased_on(unknown) if unknown else {}
    errors = {}
    for index, item in enumerate(items):
        if "email" in item:
            email = item.pop("email")
            item["lead_id"] = by_email.get(email.lower())
            if email.lower() in erased_addresses:
                errors[str(index)] = {"email": [privacy.refusal(email, erased_addresses[email.lower()])]}
            elif item["lead_id"] is None:
                message = gettext("No lead has the e-mail address %(email)s.") % {"email": email}
                errors[str(index)] = {"email": [message]}
        else:
            item["lead_id"] = item.pop("lead")
            if item["lead_id"] in erased:
                errors[str(index)] = {"lead": [_erased_lead(item["lead_id"], erased[item["lead_id"]])]}
            elif item["lead_id"] not in by_id:
                errors[str(index)] = {"lead": [gettext("No lead has the id %(id)s.") % {"id": item["lead_id"]}]}
    if errors:
        raise ValidationError({"items": errors} if is_batch else errors["0"])


def _erased_lead(lead_id, erased_at):
    return gettext("The person of lead %(lead)s was erased on %(date)s: nothing more is recorded about them.") % {
        "lead": lead_id,
        "date": f"{erased_at:%Y-%m-%d}",
    }


# The endpoint -----------------------------------------------------------------


class DeliveryConflict(APIException):
    """``activities.DeliveryRaced``: an identical delivery kept winning the race to store the same external ids."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy(
        "The same activities are being stored by another request at this moment; retry shortly."
    )
    default_code = "conflict"


@extend_schema_field({"type": "string", "enum": ["created", "duplicate"]})
class ItemStatusField(serializers.CharField):
    pass


class ActivityResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request (0 for a single object).")
    id = serializers.IntegerField(help_text="Id of the stored activity (for a duplicate, of the earlier one).")
    status = ItemStatusField(help_text="created: stored now; duplicate: its external_id was stored before.")
    lead = serializers.IntegerField()
    score = serializers.IntegerField(help_text="The lead's score after this request.")
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="The lead's stage after this request.")


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    items = ActivityResultSerializer(many=True)


def result_body(recorded):
    items = [
        {
            "index": index,
            "id": entry.activity_id,
            "status": "created" if entry.created else "duplicate",
            "lead": entry.lead.pk,
            "score": entry.lead.score,
            "stage": entry.lead.stage,
        }
        for index, entry in enumerate(recorded)
    ]
    created = sum(1 for entry in recorded if entry.created)
    return {"created": created, "duplicates": len(recorded) - created, "items": items}


class CanRecordBehaviour(permissions.BasePermission):
    message = gettext_lazy(
        "Only marketers and admins (or an integration with their token) may record behaviour. "
        "Reps log sales activities on the lead: POST /api/leads/{id}/activities/"
    )

    def has_permission(self, request, view):
        return access.has_role(request.user, access.MARKETER, access.ADMIN)


INGEST_REQUEST = PolymorphicProxySerializer(
    component_name="ActivityIngestRequest",
    serializers=[
        BehaviourActivitySerializer,
        BehaviourActivitySerializer(many=True, min_length=1, max_length=MAX_BATCH),
    ],
    resource_type_field_name=None,
    many=False,
)


class ActivityIngest(APIView):
    """Record behaviour events for integrations (marketers, admins)."""

    parser_classes = [JSONParser]
    permission_classes = [permissions.IsAuthenticated, CanRecordBehaviour]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "ingest"

    @extend_schema(
        summary="Record one behaviour activity or a batch of up to 1,000 (idempotent by external_id)",
        description=(
            "Send one activity object or a list of them. The request is all or nothing: if any item is invalid "
            'the answer is 400 with {"items": {"<index>": {"<field>": ["message"]}}} (for a single object, '
            "plain field errors) and nothing is stored. New activities update their leads' scores at once; "
            "a lead reaching the MQL threshold is promoted and routed. Items whose external_id was stored "
            "before are answered as duplicates and not counted again. 201 if anything was stored, 200 if "
            "every item was a duplicate."
        ),
        request=INGEST_REQUEST,
        responses={
            **documented({201: IngestResultSerializer, 200: IngestResultSerializer}, 400, 401, 403, 429),
            409: OpenApiResponse(
                ErrorDetail,
                description="The same activities are being stored by another request at this moment; "
                "retry shortly. Nothing was stored.",
            ),
        },
        examples=[
            OpenApiExample(
                "A batch",
                request_only=True,
                value=[
                    {"email": "ceo@acme.example", "kind": "website_visit", "url": "/pricing", "external_id": "hit-1"},
                    {"lead": 42, "kind": "webinar", "occurred_at": "2026-11-10T09:00:00Z", "external_id": "w-7"},
                ],
            )
        ],
    )
    def post(self, request):
        now = timezone.now()
        items = parse_activities(request.data, now=now)
        try:
            recorded = activities.record_activities(items, by=request.user, now=now)
        except activities.DeliveryRaced:
            raise DeliveryConflict() from None
        body = result_body(recorded)
        return Response(body, status=status.HTTP_201_CREATED if body["created"] else status.HTTP_200_OK)
