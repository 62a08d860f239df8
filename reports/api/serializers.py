"""The shapes of the reports API's answers, for the OpenAPI schema (the views build plain dicts)."""

from rest_framework import serializers

from ..forms import VIEW_CHOICES


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
    lead_visible = serializers.BooleanField(
        help_text="Whether you may see this lead now. A rep's reports count the rep's own MQL episodes, but a lead "
        "recycled and now another rep's shows no name, company or link."
    )
    lead_url = serializers.URLField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
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
