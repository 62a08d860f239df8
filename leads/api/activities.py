"""Activity ingestion for integrations: POST /api/activities/ records one behaviour
event or a batch of up to 1,000, idempotent by an optional ``external_id``.

A request is all or nothing: every item is validated (shape, then its lead) before
anything is stored, and one bad item answers 400 with its index and field. Stored
activities score their leads at once, incrementally: the whole batch adds its rule
matches to ``LeadRuleScore`` in a few set-wise statements under the leads' row
locks, which is what ``leads.scoring.apply_activities`` does for one lead; a lead
that reaches the threshold is promoted (and routed) by ``transitions.promote_to_mql``.

Sales activities (call, e-mail, meeting, conversation) are not taken here: they are
a rep's follow-up and stop the SLA clock, so they go through
``POST /api/leads/{id}/activities/`` (``transitions.log_activity``), which checks
the rep's right to act and the lead's stage.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import access, scoring, transitions
from leads.models import (
    SALES_ACTIVITY_KINDS,
    Activity,
    ActivityKind,
    EventKind,
    Lead,
    LeadEvent,
    LeadRuleScore,
    ScoringRule,
    Stage,
)
from leads.transitions import MAX_NOTE_LENGTH

from .serializers import CharField, EmailField
from .views import ErrorDetail, documented

log = logging.getLogger(__name__)

MAX_BATCH = 1000
# Integrations' clocks drift; a timestamp this far ahead of ours still counts as "now".
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_ACTIVITY = datetime(2000, 1, 1, tzinfo=UTC)
# Attempts at storing a batch while an identical delivery races it (see record_activities).
STORE_ATTEMPTS = 3

BEHAVIOUR_KINDS = [kind for kind in ActivityKind if kind not in SALES_ACTIVITY_KINDS]
LEAD_ACTIVITIES_PATH = "/api/leads/{id}/activities/"


# Input -----------------------------------------------------------------------


class BehaviourKindField(serializers.ChoiceField):
    default_error_messages = {
        "sales_kind": (
            "{kind} is a sales activity: the rep logs it on the lead with POST /api/leads/{{id}}/activities/, "
            "where it counts as follow-up. This endpoint records behaviour: {choices}."
        ),
        "unknown_kind": "{kind} is not a kind of activity; choose one of {choices}.",
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
        "invalid_url": "Give an absolute http(s) URL or a path starting with /, e.g. /pricing.",
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
            raise ValidationError(f"This is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}); send when it happened.")
        if value < EARLIEST_ACTIVITY:
            raise ValidationError("This is before 2000; send when the activity happened.")
        return value

    def validate(self, attrs):
        if ("lead" in attrs) == ("email" in attrs):
            message = "Identify the lead by its id (lead) or its e-mail address (email), not both."
            if "lead" not in attrs:
                message = "Identify the lead: give its id (lead) or its e-mail address (email)."
            raise ValidationError({"lead": [message]})
        if attrs["kind"] == ActivityKind.WEBSITE_VISIT and not attrs.get("url"):
            raise ValidationError({"url": ["A website visit needs the URL or path of the page visited."]})
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
        raise ValidationError({"non_field_errors": ["Send one activity (a JSON object) or a list of them."]})
    if not data:
        raise ValidationError({"non_field_errors": ["The list is empty: send at least one activity."]})
    if len(data) > MAX_BATCH:
        raise ValidationError(
            {"non_field_errors": [f"Send at most {MAX_BATCH:,} activities per request; this one has {len(data):,}."]}
        )
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
    leads = Lead.objects.order_by()
    if emails:
        # Lower(email) is what the lead_email_unique_ci index holds.
        leads = leads.annotate(email_ci=Lower("email")).filter(Q(pk__in=ids) | Q(email_ci__in=emails))
    else:
        leads = leads.filter(pk__in=ids)
    by_id, by_email = set(), {}
    for pk, email in leads.values_list("id", "email"):
        by_id.add(pk)
        by_email[email.lower()] = pk
    errors = {}
    for index, item in enumerate(items):
        if "email" in item:
            email = item.pop("email")
            item["lead_id"] = by_email.get(email.lower())
            if item["lead_id"] is None:
                errors[str(index)] = {"email": [f"No lead has the e-mail address {email}."]}
        else:
            item["lead_id"] = item.pop("lead")
            if item["lead_id"] not in by_id:
                errors[str(index)] = {"lead": [f"No lead has the id {item['lead_id']}."]}
    if errors:
        raise ValidationError({"items": errors} if is_batch else errors["0"])


# Storing and scoring ----------------------------------------------------------


class DeliveryConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The same activities are being stored by another request at this moment; retry shortly."
    default_code = "conflict"


@dataclass(frozen=True)
class Recorded:
    """What became of one item: the activity now holding it, and whether this request stored it."""

    activity_id: int
    created: bool
    lead: Lead


def record_activities(items, *, by, now):
    """Store the items not stored before (by external_id), score their leads and return one Recorded per item.

    A unique external_id makes a concurrent identical delivery fail at its INSERT
    (it waits for ours, then finds the rows taken); it then starts over, finds
    them stored and reports duplicates. Raises DeliveryConflict if that keeps happening.
    """
    for _attempt in range(STORE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _store(items, by=by, now=now)
        except IntegrityError:
            log.info("activity batch raced an identical delivery; starting over")
    raise DeliveryConflict()


def _store(items, *, by, now):
    external_ids = {item["external_id"] for item in items if item["external_id"]}
    stored = {
        activity.external_id: activity
        for activity in Activity.objects.filter(external_id__in=external_ids)
        .select_related("lead")
        .only("id", "external_id", "lead__id", "lead__score", "lead__stage")
    }
    new = {}  # item index -> unsaved Activity
    for index, item in enumerate(items):
        key = item["external_id"]
        if key is not None and key in stored:
            continue
        activity = Activity(
            lead_id=item["lead_id"],
            kind=item["kind"],
            occurred_at=item["occurred_at"],
            actor_id=by.pk,
            url=item.get("url", ""),
            note=item.get("note", ""),
            external_id=key,
            created_at=now,
        )
        new[index] = activity
        if key is not None:
            stored[key] = activity  # a repeat later in this batch is a duplicate of this one
    # Inserted in external_id order, so two overlapping batches meet their first shared id in
    # the same order and one waits for the other instead of deadlocking.
    Activity.objects.bulk_create(sorted(new.values(), key=lambda a: (a.external_id is None, a.external_id or "")))
    leads = apply_activities_bulk(list(new.values()), now=now)
    recorded = []
    for index, item in enumerate(items):
        activity = new.get(index) or stored[item["external_id"]]
        lead = leads.get(activity.lead_id)
        if lead is None:  # an earlier request's activity: its lead came with it (select_related)
            lead = activity.lead
        recorded.append(Recorded(activity_id=activity.pk, created=index in new, lead=lead))
    return recorded


def apply_activities_bulk(activities, *, now):
    """``leads.scoring.apply_activities`` for many leads at once; returns ``{lead_id: fresh Lead}``.

    Locks the leads (in id order, so concurrent batches cannot deadlock), adds
    each lead's new matches to its ``LeadRuleScore`` rows and the points they
    change to its score, records a score event per changed lead, and promotes
    the leads that reached the threshold. A fixed number of statements whatever
    the batch size, plus the promotions.
    """
    if not activities:
        return {}
    rules = [rule for rule in scoring.active_rules() if rule.category == ScoringRule.Category.BEHAVIOUR]
    hits = defaultdict(Counter)  # lead id -> rule id -> new matches
    for activity in activities:
        for rule in rules:
            if scoring.behaviour_match(rule, activity):
                hits[activity.lead_id][rule.pk] += 1
    leads = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(pk__in={activity.lead_id for activity in activities})
        .only("id", "score", "version", "stage", "owner", "mql_episode")
        .order_by("pk")
    }
    if hits:
        shares = {
            (lead_id, rule_id): (matches, points)
            for lead_id, rule_id, matches, points in LeadRuleScore.objects.filter(
                lead_id__in=list(hits), rule_id__in={rule_id for counts in hits.values() for rule_id in counts}
            ).values_list("lead_id", "rule_id", "matches", "points")
        }
        by_id = {rule.pk: rule for rule in rules}
        rows, events = [], []
        changed = defaultdict(list)  # score change -> ids of the leads it applies to
        for lead_id, counts in hits.items():
            lead = leads[lead_id]
            delta = 0
            for rule_id, count in counts.items():
                had_matches, had_points = shares.get((lead_id, rule_id), (0, 0))
                matches = had_matches + count
                points = scoring.rule_points(by_id[rule_id], matches)
                delta += points - had_points
                rows.append(LeadRuleScore(lead_id=lead_id, rule_id=rule_id, matches=matches, points=points))
            if delta:
                events.append(_score_event(lead, lead.score + delta, now=now))
                lead.score += delta
                lead.version += 1
                changed[delta].append(lead_id)
        LeadRuleScore.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["lead", "rule"], update_fields=["matches", "points"]
        )
        if changed:
            # One UPDATE for all: a CASE per distinct change (a handful), not per lead as
            # bulk_update would write, which costs seconds of Python for 1,000 leads.
            change = Case(*(When(pk__in=ids, then=Value(delta)) for delta, ids in changed.items()), default=Value(0))
            Lead.objects.filter(pk__in=[pk for ids in changed.values() for pk in ids]).update(
                score=F("score") + change, version=F("version") + 1, updated_at=now
            )
            LeadEvent.objects.bulk_create(events)
    limit = scoring.threshold()
    for lead_id, lead in leads.items():
        if lead.stage == Stage.LEAD and lead.score >= limit:
            leads[lead_id] = _promote(lead, limit=limit, now=now)
    return leads


def _score_event(lead, score, *, now):
    # The same row scoring._record_score writes for one activity.
    return LeadEvent(
        lead_id=lead.pk,
        kind=EventKind.SCORE_CHANGED,
        at=now,
        from_stage=lead.stage,
        to_stage=lead.stage,
        owner_id=lead.owner_id,
        episode=lead.mql_episode,
        payload={"from": lead.score, "to": score, "cause": "activity"},
    )


def _promote(lead, *, limit, now):
    try:
        return transitions.promote_to_mql(lead, by=None, now=now, note=f"Score {lead.score} reached {limit}.")
    except transitions.LeadError as exc:
        # As in scoring: the lead stays a lead with its score; the next activity or rescore retries.
        log.warning("lead %s reached the threshold but was not promoted: %s", lead.pk, exc.message)
        return lead


# The endpoint -----------------------------------------------------------------


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
    message = (
        "Only marketers and admins (or an integration with their token) may record behaviour. "
        f"Reps log sales activities on the lead: POST {LEAD_ACTIVITIES_PATH}"
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
            **documented({201: IngestResultSerializer, 200: IngestResultSerializer}, 400, 401, 403),
            409: OpenApiResponse(ErrorDetail, description=DeliveryConflict.default_detail + " Nothing was stored."),
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
        recorded = record_activities(items, by=request.user, now=now)
        body = result_body(recorded)
        return Response(body, status=status.HTTP_201_CREATED if body["created"] else status.HTTP_200_OK)
