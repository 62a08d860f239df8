"""The reports API's answers: each report serialized from the ``Report`` its page renders.

A view builds the report with the page's builder (``reports.pages``) and hands
its ``data`` (the report's values by name), next to the period, filters and
moment it was computed for, to the report's ``*Body`` serializer. A ``Number``
becomes a count or a rate with the URL of the leads behind it.
"""

from datetime import UTC

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


class LeadsUrl(serializers.URLField):
    """A ``Number``'s link; null where no list selects its leads (unassigned MQLs, a blank source)."""

    def to_representation(self, value):
        return value or None


class Percent(serializers.FloatField):
    def to_representation(self, value):
        return round(value, 4)


class Seconds(serializers.FloatField):
    """A duration in seconds."""

    def to_representation(self, value):
        return value.total_seconds()


class CountNumber(serializers.Serializer):
    """A number of leads, and the URL that lists them."""

    count = serializers.IntegerField(source="value")
    leads_url = LeadsUrl(
        source="link", allow_null=True, help_text="The leads behind this number (GET /api/reports/leads/?...)."
    )


class RateNumber(serializers.Serializer):
    """A rate: numerator ÷ denominator × 100, its formula, and the URL that lists the leads in the numerator."""

    numerator = serializers.IntegerField(source="value.numerator")
    denominator = serializers.IntegerField(source="value.denominator")
    percent = Percent(
        source="value.percent", allow_null=True, help_text="numerator ÷ denominator × 100; null when 0 ÷ 0."
    )
    formula = serializers.CharField()
    leads_url = LeadsUrl(source="link", allow_null=True, help_text="The leads counted in the numerator.")


class HeadlineValue(serializers.FloatField):
    """A count (an integer), a percent or seconds, as computed; null when unknown."""

    def to_representation(self, value):
        return value


class HeadlineValues(serializers.DictField):
    """The report's headline numbers by name: a count, a percent (null for 0 ÷ 0) or seconds (null when unknown)."""

    child = HeadlineValue(allow_null=True)

    def to_representation(self, value):
        return dict(value)


class PreviousNumber(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["int", "percent", "duration"])
    value = HeadlineValue(allow_null=True, help_text="A count, a percent, or seconds.")
    change = HeadlineValue(
        allow_null=True,
        help_text="This period minus the previous one: percentage points for a rate, seconds for a time.",
    )
    leads_url = LeadsUrl(allow_null=True)


class PreviousPeriod(serializers.Serializer):
    to = serializers.DateField()
    numbers = PreviousNumber(many=True)


PreviousPeriod._declared_fields = {"from": serializers.DateField(), **PreviousPeriod._declared_fields}


class TrendBucket(serializers.Serializer):
    to = serializers.DateField()
    values = HeadlineValues()


TrendBucket._declared_fields = {"from": serializers.DateField(), **TrendBucket._declared_fields}


class Trend(serializers.Serializer):
    unit = serializers.ChoiceField(choices=["week", "month"], help_text="Weeks (Monday to Sunday) up to 183 days.")
    buckets = TrendBucket(many=True)


class BreakdownNumber(serializers.Serializer):
    name = serializers.CharField()
    value = HeadlineValue(allow_null=True)
    leads_url = LeadsUrl(allow_null=True, help_text="Null for a zero, or a group no filter selects.")


class BreakdownRow(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The rep's or team's id, the source or the campaign.")
    name = serializers.CharField()
    numbers = BreakdownNumber(many=True)


class Breakdown(serializers.Serializer):
    by = serializers.ChoiceField(choices=["rep", "team", "source", "campaign"])
    rows = BreakdownRow(many=True)


class ReportBody(serializers.Serializer):
    report = serializers.CharField()
    formula = serializers.CharField()
    as_of = serializers.DateTimeField(default_timezone=UTC)
    period = PeriodEcho()
    filters = FiltersEcho()
    view = serializers.ChoiceField(choices=VIEW_CHOICES)
    previous = PreviousPeriod(
        allow_null=True, required=False, help_text="The headline numbers of the previous period of equal length."
    )
    trend = Trend(required=False, help_text="The headline numbers per week, or per month for periods over 6 months.")
    breakdown = Breakdown(allow_null=True, required=False, help_text="With by=rep|team|source|campaign.")


class IgnoreRep(serializers.Serializer):
    rep = serializers.IntegerField(allow_null=True, help_text="The current owner; null for unassigned MQLs.")
    name = serializers.CharField()
    mqls = CountNumber()
    ignored = CountNumber()
    awaiting = CountNumber()
    followed_up = CountNumber()
    ignore_rate = RateNumber()


class IgnoreRateBody(ReportBody):
    ignore_rate = RateNumber()
    mqls = CountNumber()
    ignored = CountNumber()
    awaiting = CountNumber(help_text="Inside their SLA window with no follow-up: not ignored (yet).")
    followed_up = CountNumber()
    by_rep = IgnoreRep(many=True)


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
    count = serializers.IntegerField(source="mqls.value")
    percent = Percent(source="share.percent", allow_null=True)
    leads_url = LeadsUrl(source="mqls.link")


class RepSpeed(serializers.Serializer):
    rep = serializers.IntegerField(allow_null=True, help_text="The current owner; null for unassigned MQLs.")
    name = serializers.CharField()
    responded = CountNumber()
    mean_seconds = Seconds(source="mean", allow_null=True)
    within_hour = RateNumber()
    within_sla = RateNumber()


class SpeedToLeadBody(ReportBody):
    responded = CountNumber()
    median_seconds = Seconds(source="median.value", allow_null=True)
    mean_seconds = Seconds(source="mean.value", allow_null=True)
    p90_seconds = Seconds(source="p90.value", allow_null=True)
    typical_window_seconds = Seconds(
        source="typical_window", allow_null=True, help_text="The median SLA window of the period's MQLs."
    )
    misses_sla = serializers.BooleanField(
        allow_null=True, help_text="Whether the mean response is slower than the typical SLA window."
    )
    within_hour = RateNumber()
    within_sla = RateNumber()
    bands = SpeedBand(many=True)
    by_rep = RepSpeed(many=True)


class ReasonRow(serializers.Serializer):
    code = serializers.CharField(source="reason.code")
    label = serializers.CharField(source="reason.label")
    count = serializers.IntegerField(source="rejections.value")
    percent = Percent(source="reason.share.percent", allow_null=True)
    from_mql = serializers.IntegerField(source="reason.from_mql")
    from_sal = serializers.IntegerField(source="reason.from_sal")
    leads_url = LeadsUrl(source="rejections.link")


class TrendRow(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday starting the week.")
    code = serializers.CharField()
    count = serializers.IntegerField()


class SplitRow(serializers.Serializer):
    value = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    count = serializers.IntegerField(source="rejections.value")
    leads_url = LeadsUrl(source="rejections.link", allow_null=True)


class RejectionReasonsBody(ReportBody):
    rejections = CountNumber()
    reasons = ReasonRow(many=True)
    trend_by_reason = TrendRow(many=True)
    by_source = SplitRow(many=True)
    by_campaign = SplitRow(many=True)


class ConversationGroup(serializers.Serializer):
    contacted = CountNumber()
    conversations = CountNumber()
    rate = RateNumber()


class ConversationRateBody(ReportBody):
    mql = ConversationGroup()
    colder = ConversationGroup()


class TargetRate(RateNumber):
    """MQLs ÷ target × 100, where the target may be pro-rated (a fraction of MQLs)."""

    denominator = serializers.FloatField(source="value.denominator")


class MonthRow(serializers.Serializer):
    month = serializers.DateField()
    mqls = CountNumber()
    target = serializers.FloatField(
        allow_null=True, help_text="The month's target, pro-rated by business days when the period covers part of it."
    )
    full_target = serializers.IntegerField(allow_null=True, help_text="The whole month's target.")
    business_days = serializers.IntegerField(help_text="Business days of the month inside the period.")
    month_business_days = serializers.IntegerField()
    pro_rated = serializers.BooleanField()
    percent = Percent(
        source="attainment.percent", allow_null=True, help_text="MQLs ÷ target × 100; null without a target."
    )


class PacingBody(serializers.Serializer):
    month = serializers.DateField()
    today = serializers.DateField()
    mqls_to_date = serializers.IntegerField()
    target = serializers.IntegerField(allow_null=True, help_text="The month's target of the report's scope.")
    target_to_date = serializers.FloatField(allow_null=True, help_text="Pro-rated by business days gone.")
    business_days_gone = serializers.IntegerField()
    business_days_left = serializers.IntegerField()
    in_flight = serializers.IntegerField(help_text="Leads created this month that are not (yet) an MQL.")
    historical_conversion = serializers.FloatField(
        allow_null=True, help_text="Percent of the leads of the three months before that became an MQL."
    )
    projected = serializers.FloatField(allow_null=True)
    needed_per_business_day = serializers.FloatField(allow_null=True)
    behind = serializers.BooleanField()
    formula = serializers.CharField()


class MqlTargetBody(ReportBody):
    pacing = PacingBody(
        allow_null=True,
        help_text="The month under way (of 'as of'), against its target; null at the edge of the years.",
    )
    target_scope = serializers.ChoiceField(
        choices=["rep", "team", "overall"], help_text="Whose target: a rep's own, a team's, or the overall one."
    )
    pro_rated_note = serializers.CharField(allow_blank=True)
    produced = CountNumber()
    attainment = TargetRate()
    months = MonthRow(many=True)


class ResponseEffectBody(ReportBody):
    fast_rate = RateNumber(help_text="SQL rate of MQLs answered within 1 hour.")
    slow_rate = RateNumber(help_text="SQL rate of MQLs answered after more than 1 hour.")
    fast = CountNumber()
    fast_sqls = CountNumber()
    slow = CountNumber()
    slow_sqls = CountNumber()
    times = serializers.FloatField(
        allow_null=True, help_text="fast_rate ÷ slow_rate; null when either is unknown or the later rate is 0."
    )
    sentence = serializers.CharField()


class StageTime(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["lead", "mql", "sal"], help_text="The stage left.")
    label = serializers.CharField()
    median_seconds = Seconds(source="median", allow_null=True)
    p90_seconds = Seconds(source="p90", allow_null=True)


class CohortRow(serializers.Serializer):
    month = serializers.DateField()
    leads = serializers.IntegerField()
    mqls = serializers.IntegerField()
    sals = serializers.IntegerField()
    sqls = serializers.IntegerField()
    lead_to_mql = Percent(source="lead_to_mql.percent", allow_null=True)
    mql_to_sal = Percent(source="mql_to_sal.percent", allow_null=True)
    sal_to_sql = Percent(source="sal_to_sql.percent", allow_null=True)


class StepRate(serializers.Serializer):
    numerator = serializers.IntegerField(source="value.numerator")
    denominator = serializers.IntegerField(source="value.denominator")
    percent = Percent(source="value.percent", allow_null=True)


class WaterfallBody(ReportBody):
    leads = CountNumber()
    mqls = CountNumber()
    sals = CountNumber()
    sqls = CountNumber()
    lead_to_mql = StepRate()
    mql_to_sal = StepRate()
    sal_to_sql = StepRate()
    stages = StageTime(many=True)
    cohorts = CohortRow(many=True)


class OverviewBody(ReportBody):
    """The overview's cards: the first numbers of each report."""

    mqls = CountNumber(source="ignore_rate.data.mqls")
    ignore_rate = RateNumber(source="ignore_rate.data.ignore_rate")
    awaiting = CountNumber(source="ignore_rate.data.awaiting")
    mql_to_sal = RateNumber(source="conversion.data.mql_to_sal")
    mql_to_sql = RateNumber(source="conversion.data.mql_to_sql")
    sla_compliance = RateNumber(source="sla_compliance.data.compliance")
    median_response_seconds = Seconds(source="speed_to_lead.data.median.value", allow_null=True)
    misses_sla = serializers.BooleanField(source="speed_to_lead.data.misses_sla", allow_null=True)
    rejections = CountNumber(source="rejection_reasons.data.rejections")
    mql_conversation_rate = RateNumber(source="conversation_rate.data.mql.rate")
    colder_conversation_rate = RateNumber(source="conversation_rate.data.colder.rate")
    mql_target_attainment = TargetRate(
        source="mql_target.data.attainment", help_text="MQLs ÷ target × 100 over the period's months with a target."
    )


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
