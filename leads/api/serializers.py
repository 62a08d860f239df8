"""What the API shows of a lead and its history, and the input of each action.

Input serializers only check the shape of a request (types, lengths, known
ids); the business rules (who may act, which move is legal, which reason code
exists) stay in ``leads.transitions``, which the HTML views call too.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.company_sizes import CompanySizeError, parse_company_size
from leads.models import SALES_ACTIVITY_KINDS, Lead, LeadEvent, OptOut, RejectionReason, Team
from leads.transitions import EDITABLE_FIELDS, MAX_NOTE_LENGTH


class RawLengthMixin:
    """Text must be sent as text (DRF would take 0 for "0"), and the length limit applies
    to the text as sent, before DRF trims whitespace, so the maxLength the schema documents is exact."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class CharField(RawLengthMixin, serializers.CharField):
    pass


class EmailField(RawLengthMixin, serializers.EmailField):
    pass


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 40}, {"type": "integer", "minimum": 0}]})
class CompanySizeField(serializers.Field):
    """A number of employees or a range as text ("51-200", "1,001-5,000", "10k+"), or a whole number; null is none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "Number of employees or a range as given: 250, 51-200, 1,001-5,000, 10k+.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_company_size(data)[0]
        except CompanySizeError as error:
            raise serializers.ValidationError(error.sentence) from None

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value


def version_field():
    return serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The lead's version as the client last saw it (or send its ETag as If-Match); a lead changed "
        "since then is refused with 409 and nothing changes. Without either, the action applies to the lead as it is.",
    )


class LeadSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:lead-detail")
    owner_name = serializers.SerializerMethodField()
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    rejection_reason = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    account_name = serializers.CharField(source="account.name", read_only=True, allow_null=True, default=None)
    possible_duplicates = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Ids of earlier leads this one may duplicate (same e-mail once normalised, same phone, close name at the account).",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "url",
            *EDITABLE_FIELDS,
            "company_size_low",
            "company_size_high",
            "stage",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "score",
            "mql_episode",
            "version",
            "created_at",
            "updated_at",
            "mql_at",
            "first_follow_up_at",
            "accepted_at",
            "qualified_at",
            "rejected_at",
            "rejection_reason",
            "sla_due_at",
            "sla_breached_at",
            "opted_out_at",
            "erased_at",
            "account",
            "account_name",
            "possible_duplicates",
            "merged_into",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return display_name(lead.owner)

    # The lead list serialises 50 to 200 leads a request: DRF's generic field walk cost more than the
    # page's query (bench/README.md, workspace). This gives, field for field, what it gives
    # (tests/leads/test_api_serializer.py compares the two on leads in every state).
    _TEXTS = ("name", "email", "phone", "company", "job_title", "company_size", "country", "source", "campaign")
    _TIMES = (
        "created_at",
        "updated_at",
        "mql_at",
        "first_follow_up_at",
        "accepted_at",
        "qualified_at",
        "rejected_at",
    )
    _LATER_TIMES = ("sla_due_at", "sla_breached_at", "opted_out_at", "erased_at")
    _URL_PLACEHOLDER = 987654321987654321

    def to_representation(self, lead):
        time = self._time_field().to_representation
        url = self._url_template()
        data = {"id": lead.pk, "url": url.replace(str(self._URL_PLACEHOLDER), str(lead.pk))}
        for name in self._TEXTS:
            value = getattr(lead, name)
            data[name] = None if value is None else str(value)
        data["priority"] = lead.priority
        data["company_size_low"] = lead.company_size_low
        data["company_size_high"] = lead.company_size_high
        data["stage"] = lead.stage
        data["owner"] = lead.owner_id
        data["owner_name"] = display_name(lead.owner) if lead.owner_id else None
        data["team"] = lead.team_id
        data["team_name"] = lead.team.name if lead.team_id else None
        data["score"] = lead.score
        data["mql_episode"] = lead.mql_episode
        data["version"] = lead.version
        for name in self._TIMES:
            value = getattr(lead, name)
            data[name] = None if value is None else time(value)
        data["rejection_reason"] = lead.rejection_reason.code if lead.rejection_reason_id else None
        for name in self._LATER_TIMES:
            value = getattr(lead, name)
            data[name] = None if value is None else time(value)
        data["account"] = lead.account_id
        data["account_name"] = lead.account.name if lead.account_id else None
        data["possible_duplicates"] = [int(pk) for pk in lead.possible_duplicates]
        data["merged_into"] = lead.merged_into_id
        return data

    def _time_field(self):
        field = getattr(self, "_time", None)
        if field is None:
            field = self._time = serializers.DateTimeField()
        return field

    def _url_template(self):
        # One reverse a page, not one a lead: the detail address of a placeholder id.
        template = getattr(self, "_url", None)
        if template is None:
            field = self.fields["url"]
            placeholder = Lead(pk=self._URL_PLACEHOLDER)
            template = self._url = field.to_representation(placeholder)
        return template


class LeadCreateSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.EmailField: EmailField,
    }
    # Explicit bounds: the model's own depend on the database backend.
    company_size = CompanySizeField(required=False)
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        allow_blank=True,
        help_text="ISO 3166-1 alpha-2 code, e.g. DE.",
        error_messages={"invalid": gettext_lazy("Use a two-letter ISO 3166-1 country code, e.g. DE.")},
    )

    class Meta:
        model = Lead
        fields = list(EDITABLE_FIELDS)

    def validate_country(self, value):
        return value.upper()


class LeadUpdateSerializer(LeadCreateSerializer):
    """The details a marketer may change (PATCH: send only what changes), and the version the client saw."""

    version = version_field()

    class Meta(LeadCreateSerializer.Meta):
        fields = [*LeadCreateSerializer.Meta.fields, "version"]
        extra_kwargs = {"name": {"allow_blank": False}, "email": {"allow_blank": False}}

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            message = gettext("This detail cannot be changed here.")
            raise serializers.ValidationError({field: [message] for field in unknown})
        if not attrs:
            raise serializers.ValidationError(gettext("Send at least one detail to change."))
        return attrs


# Not an enum in the schema: the stages' enum is StageEnum, and a second enum of the same values
# plus "" would give the schema two names for one set.
@extend_schema_field(
    {
        "type": "string",
        "maxLength": 20,
        "description": "A stage (see StageEnum), or empty when the event is not a move.",
    }
)
class EventStageField(serializers.CharField):
    pass


class LeadEventSerializer(serializers.ModelSerializer):
    from_stage = EventStageField(read_only=True)
    to_stage = EventStageField(read_only=True)
    actor_username = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    reason_label = serializers.CharField(source="reason.label", read_only=True, allow_null=True, default=None)

    class Meta:
        model = LeadEvent
        fields = [
            "id",
            "kind",
            "at",
            "actor",
            "actor_username",
            "from_stage",
            "to_stage",
            "owner",
            "episode",
            "reason",
            "reason_label",
            "note",
            "payload",
        ]
        read_only_fields = fields


class RejectionReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = RejectionReason
        fields = ["code", "label"]
        read_only_fields = fields


def display_name(user):
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


# Input of the actions. ``note`` is optional everywhere and lands in the history.


class NoteInput(serializers.Serializer):
    note = CharField(required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH)
    version = version_field()


class PromoteInput(NoteInput):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Team to route the MQL to; defaults to the lead's team, then the first active team.",
        error_messages={
            "does_not_exist": gettext_lazy("No active team has the id {pk_value}."),
            "incorrect_type": gettext_lazy("Give the team's id (a whole number)."),
        },
    )


class ReasonInput(NoteInput):
    reason = CharField(
        max_length=50,
        help_text="Code of an active rejection reason (see /api/rejection-reasons/).",
        error_messages={
            "required": gettext_lazy("A rejection reason is required."),
            "blank": gettext_lazy("A rejection reason is required."),
        },
    )


class ReassignInput(NoteInput):
    to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        help_text="Id of the rep of the lead's team who takes the lead over.",
        error_messages={
            "required": gettext_lazy("Choose the rep to give this lead to."),
            "does_not_exist": gettext_lazy("No active user has the id {pk_value}."),
            "incorrect_type": gettext_lazy("Give the rep's user id (a whole number)."),
        },
    )


class MergeInput(NoteInput):
    into = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="Id of the lead that survives; this lead is closed as its duplicate.",
        error_messages={
            "required": gettext_lazy("Give the id of the lead to merge into."),
            "invalid": gettext_lazy("Give a lead id (a whole number)."),
        },
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Only say what would happen; nothing is written."
    )


class MergePlan(serializers.Serializer):
    lead = serializers.IntegerField()
    into = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    survivor_stage = serializers.CharField()
    survivor_owner = serializers.IntegerField(allow_null=True)
    episodes_kept = serializers.IntegerField(
        help_text="The merged lead's MQL episodes: they stay its own, counted once."
    )
    activities_kept = serializers.IntegerField()
    events = serializers.ListField(child=serializers.DictField(), help_text="The history rows the merge writes.")


class ActivityInput(NoteInput):
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in SALES_ACTIVITY_KINDS])
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened; defaults to now.")


class VersionInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The lead's version as the client last saw it; a lead changed since then is refused with 409.",
    )


class OptOutInput(VersionInput):
    source = serializers.ChoiceField(
        choices=OptOut.Source.choices,
        help_text="How the opt-out reached us.",
        error_messages={
            "invalid_choice": gettext_lazy("{input} is not an opt-out source; see the list in the schema.")
        },
    )


class ScoreShareSerializer(serializers.Serializer):
    """One rule's share of a lead's score (``scoring.ScoreLine``)."""

    rule = serializers.IntegerField(source="rule.pk")
    rule_name = serializers.CharField(source="rule.name")
    category = serializers.CharField(source="rule.category")
    rule_is_active = serializers.BooleanField(source="rule.is_active")
    matches = serializers.IntegerField(help_text="Activities counted (behaviour), or 1 (a matched trait).")
    points_then = serializers.IntegerField(
        help_text="What the matches gave when they happened: undecayed, capped at the rule's cap."
    )
    points = serializers.IntegerField(
        help_text="What they give now (as of the lead's last scoring): decayed, capped, rounded to whole points."
    )
    half_life_days = serializers.IntegerField(allow_null=True, help_text="The rule's half-life; null: no decay.")
    cap = serializers.IntegerField(source="rule.cap", allow_null=True)
    capped = serializers.BooleanField()


class LeadScoreSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    score = serializers.IntegerField(help_text="The stored score: the sum of the shares' points.")
    mql_threshold = serializers.IntegerField()
    shares = ScoreShareSerializer(many=True, help_text="Biggest share first.")
