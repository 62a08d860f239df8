"""The handoff metrics: one function per metric, computed in the database.

Every function takes an explicit ``Period`` and ``Filters`` (and, where the
answer depends on it, an ``as_of`` instant and a ``view``) and returns a small
frozen dataclass. Numbers come from ``MqlEpisode``, the per-episode projection
of the lead history, so a recycled lead that becomes an MQL again counts once
per episode. Each number's leads are available from the ``*_episodes``
functions, which the drill-down pages use, so a number and its list can never
disagree.

Views: *period* counts events that happened in the period (SALs accepted in it,
SQLs qualified in it, over MQLs created in it); *cohort* follows the MQLs created
in the period to ``as_of`` (default: now).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from leads.models import SALES_ACTIVITY_KINDS, Activity, ActivityKind, Lead, MqlEpisode

MAX_PERIOD_DAYS = 731
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

PERIOD_VIEW = "period"
COHORT_VIEW = "cohort"
VIEWS = (PERIOD_VIEW, COHORT_VIEW)

SPEED_BANDS = (
    ("0–5 min", timedelta(0), timedelta(minutes=5)),
    ("5–15 min", timedelta(minutes=5), timedelta(minutes=15)),
    ("15–60 min", timedelta(minutes=15), timedelta(minutes=60)),
    ("60+ min", timedelta(minutes=60), None),
)


class ReportInputError(ValueError):
    """A period, view or filter a report cannot answer for; the message says why."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Period:
    """Whole local days from ``start`` to ``end`` inclusive, in the time zone ``tz``."""

    start: date
    end: date
    tz: str = "UTC"

    def __post_init__(self):
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise ReportInputError("Give the period as dates (YYYY-MM-DD).", field="from")
        if self.end < self.start:
            raise ReportInputError("The period ends before it starts: 'to' must be on or after 'from'.", field="to")
        for name, value in (("from", self.start), ("to", self.end)):
            if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                raise ReportInputError(
                    f"'{name}' must be between {EARLIEST_YEAR} and {LATEST_YEAR}, got {value.isoformat()}.", field=name
                )
        days = (self.end - self.start).days + 1
        if days > MAX_PERIOD_DAYS:
            raise ReportInputError(
                f"The period is {days} days long; reports cover at most {MAX_PERIOD_DAYS} days (two years).",
                field="to",
            )
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ReportInputError(f"Unknown time zone {self.tz!r}.", field="tz") from None

    @property
    def zone(self):
        return ZoneInfo(self.tz)

    @property
    def start_at(self):
        return datetime.combine(self.start, time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def end_at(self):
        """The first instant after the period (local midnight after ``end``)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @classmethod
    def last_days(cls, days, *, today=None, tz="UTC"):
        today = today or timezone.now().astimezone(ZoneInfo(tz)).date()
        return cls(today - timedelta(days=days - 1), today, tz)


@dataclass(frozen=True)
class Filters:
    source: str = ""
    campaign: str = ""
    team: int | None = None
    rep: int | None = None

    def apply(self, episodes):
        if self.source:
            episodes = episodes.filter(source=self.source)
        if self.campaign:
            episodes = episodes.filter(campaign=self.campaign)
        if self.team is not None:
            episodes = episodes.filter(team_id=self.team)
        if self.rep is not None:
            episodes = episodes.filter(owner_id=self.rep)
        return episodes


@dataclass(frozen=True)
class Ratio:
    """``numerator`` of ``denominator``; ``percent`` is None when there is nothing to divide by."""

    numerator: int
    denominator: int

    @property
    def percent(self):
        if not self.denominator:
            return None
        return 100.0 * self.numerator / self.denominator


def _as_of(as_of):
    return as_of or timezone.now()


def _check_view(view):
    if view not in VIEWS:
        raise ReportInputError(f"Unknown view {view!r}; choose 'period' or 'cohort'.", field="view")


def _in(period, name):
    return Q(**{f"{name}__gte": period.start_at, f"{name}__lt": period.end_at})


# The episodes behind each number


def mql_episodes(period, filters, *, as_of=None):
    """Return the MQL episodes created in ``period`` (up to ``as_of``) matching ``filters``; raises nothing."""
    return filters.apply(MqlEpisode.objects.filter(_in(period, "mql_at"), mql_at__lte=_as_of(as_of)))


def _not_followed_up_by(as_of):
    return Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gt=as_of)


def _ignored_q(as_of):
    return Q(due_at__isnull=False, due_at__lte=as_of) & _not_followed_up_by(as_of)


def _awaiting_q(as_of):
    return (Q(due_at__isnull=True) | Q(due_at__gt=as_of)) & _not_followed_up_by(as_of)


def _followed_up_q(as_of):
    return Q(first_follow_up_at__isnull=False, first_follow_up_at__lte=as_of)


def _sla_expired_q(as_of):
    return Q(due_at__isnull=False, due_at__lte=as_of)


def _sla_closed_q(as_of):
    return _followed_up_q(as_of) | _sla_expired_q(as_of)


def _sla_within_q(as_of):
    return _followed_up_q(as_of) & _within_window_q()


def _sla_late_q(as_of):
    return _followed_up_q(as_of) & Q(due_at__isnull=False, first_follow_up_at__gt=F("due_at"))


def _within_window_q():
    return Q(due_at__isnull=True) | Q(first_follow_up_at__lte=F("due_at"))


def ignored_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs whose SLA window expired with no follow-up as of ``as_of``; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_ignored_q(as_of))


def awaiting_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs still inside their window (or not yet routed) with no follow-up; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_awaiting_q(as_of))


def followed_up_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs followed up by ``as_of``; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_followed_up_q(as_of))


def accepted_episodes(period, filters, *, view=PERIOD_VIEW, as_of=None):
    """Return the SALs of the period (accepted in it) or of the cohort (its MQLs accepted by ``as_of``); raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if view == PERIOD_VIEW:
        return filters.apply(MqlEpisode.objects.filter(_in(period, "accepted_at"), accepted_at__lte=as_of))
    return mql_episodes(period, filters, as_of=as_of).filter(accepted_at__lte=as_of)


def qualified_episodes(period, filters, *, view=PERIOD_VIEW, as_of=None):
    """Return the SQLs of the period (qualified in it) or of the cohort (its MQLs qualified by ``as_of``); raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if view == PERIOD_VIEW:
        return filters.apply(MqlEpisode.objects.filter(_in(period, "qualified_at"), qualified_at__lte=as_of))
    return mql_episodes(period, filters, as_of=as_of).filter(qualified_at__lte=as_of)


def rejected_episodes(period, filters, *, reason=None, as_of=None):
    """Return episodes rejected or disqualified in ``period`` (optionally with one reason code); raises nothing."""
    episodes = filters.apply(MqlEpisode.objects.filter(_in(period, "rejected_at"), rejected_at__lte=_as_of(as_of)))
    if reason:
        episodes = episodes.filter(rejection_reason__code=reason)
    return episodes


def sla_missed_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs whose window closed before their first follow-up (late or never); raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(
        Q(due_at__isnull=False, due_at__lte=as_of)
        & (_not_followed_up_by(as_of) | Q(first_follow_up_at__gt=F("due_at")))
    )


# The metrics


@dataclass(frozen=True)
class IgnoreRate:
    formula = "MQLs never followed up although their SLA window has expired ÷ all MQLs of the period × 100"
    mqls: int
    ignored: int
    awaiting: int
    followed_up: int
    as_of: datetime

    @property
    def rate(self):
        return Ratio(self.ignored, self.mqls)


def ignore_rate(period, filters, *, as_of=None):
    """Return the Ignore Rate of the MQLs created in ``period``, judged as of ``as_of`` (default now); raises nothing."""
    as_of = _as_of(as_of)
    counts = mql_episodes(period, filters, as_of=as_of).aggregate(
        mqls=Count("id"),
        ignored=Count("id", filter=_ignored_q(as_of)),
        awaiting=Count("id", filter=_awaiting_q(as_of)),
        followed_up=Count("id", filter=_followed_up_q(as_of)),
    )
    return IgnoreRate(as_of=as_of, **counts)


def _rep_name(row):
    if not row["owner_id"]:
        return "Unassigned"
    return f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]


def ignore_rate_by_rep(period, filters, *, as_of=None):
    """Return ((rep_id, rep_name, IgnoreRate), ...) for the period's MQLs by current owner, in one query; raises nothing."""
    as_of = _as_of(as_of)
    rows = (
        mql_episodes(period, filters, as_of=as_of)
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            mqls=Count("id"),
            ignored=Count("id", filter=_ignored_q(as_of)),
            awaiting=Count("id", filter=_awaiting_q(as_of)),
            followed_up=Count("id", filter=_followed_up_q(as_of)),
        )
        .order_by("owner__username")
    )
    return tuple(
        (
            row["owner_id"],
            _rep_name(row),
            IgnoreRate(
                as_of=as_of,
                mqls=row["mqls"],
                ignored=row["ignored"],
                awaiting=row["awaiting"],
                followed_up=row["followed_up"],
            ),
        )
        for row in rows
    )


@dataclass(frozen=True)
class Conversion:
    formula_sal = "SALs ÷ MQLs × 100"
    formula_sql = "SQLs ÷ MQLs × 100"
    view: str
    mqls: int
    sals: int
    sqls: int

    @property
    def mql_to_sal(self):
        return Ratio(self.sals, self.mqls)

    @property
    def mql_to_sql(self):
        return Ratio(self.sqls, self.mqls)


def conversion(period, filters, *, view=PERIOD_VIEW, as_of=None):
    """Return MQL→SAL acceptance and MQL→SQL conversion ("MQL efficiency") in the period or cohort view; raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if view == COHORT_VIEW:
        counts = mql_episodes(period, filters, as_of=as_of).aggregate(
            mqls=Count("id"),
            sals=Count("id", filter=Q(accepted_at__lte=as_of)),
            sqls=Count("id", filter=Q(qualified_at__lte=as_of)),
        )
        return Conversion(view=view, **counts)
    # Period view: each count is of events inside the period, so one pass over
    # the episodes touching the period with a filtered count per event.
    touching = filters.apply(
        MqlEpisode.objects.filter(
            _in(period, "mql_at") | _in(period, "accepted_at") | _in(period, "qualified_at"), mql_at__lte=as_of
        )
    )
    counts = touching.aggregate(
        mqls=Count("id", filter=_in(period, "mql_at")),
        sals=Count("id", filter=_in(period, "accepted_at") & Q(accepted_at__lte=as_of)),
        sqls=Count("id", filter=_in(period, "qualified_at") & Q(qualified_at__lte=as_of)),
    )
    return Conversion(view=view, **counts)


@dataclass(frozen=True)
class SlaCompliance:
    formula = "MQLs followed up within their window ÷ MQLs whose window has closed × 100"
    closed: int
    within: int
    late: int
    never: int

    @property
    def rate(self):
        return Ratio(self.within, self.closed)


def sla_compliance(period, filters, *, as_of=None):
    """Return SLA compliance of the period's MQLs: a window closes when answered or when it expires; raises nothing."""
    as_of = _as_of(as_of)
    counts = mql_episodes(period, filters, as_of=as_of).aggregate(
        closed=Count("id", filter=_sla_closed_q(as_of)),
        within=Count("id", filter=_sla_within_q(as_of)),
        late=Count("id", filter=_sla_late_q(as_of)),
        never=Count("id", filter=_sla_expired_q(as_of) & _not_followed_up_by(as_of)),
    )
    return SlaCompliance(**counts)


@dataclass(frozen=True)
class RepSpeed:
    rep_id: int | None
    rep_name: str
    responded: int
    mean: timedelta | None
    within_hour: int
    within_sla: int

    @property
    def within_hour_share(self):
        return Ratio(self.within_hour, self.responded)

    @property
    def within_sla_share(self):
        return Ratio(self.within_sla, self.responded)


@dataclass(frozen=True)
class SpeedToLead:
    formula = "time from MQL to first follow-up (accept, reject or logged sales activity)"
    responded: int
    median: timedelta | None
    mean: timedelta | None
    p90: timedelta | None
    within_hour: int
    within_sla: int
    typical_window: timedelta | None
    bands: tuple = field(default_factory=tuple)
    by_rep: tuple = field(default_factory=tuple)

    @property
    def within_hour_share(self):
        return Ratio(self.within_hour, self.responded)

    @property
    def within_sla_share(self):
        return Ratio(self.within_sla, self.responded)

    @property
    def misses_sla(self):
        """Whether the mean response is slower than the typical promised window."""
        if self.mean is None or self.typical_window is None:
            return None
        return self.mean > self.typical_window


_RESPONSE = ExpressionWrapper(F("first_follow_up_at") - F("mql_at"), output_field=DurationField())
_WINDOW = ExpressionWrapper(F("due_at") - F("mql_at"), output_field=DurationField())
# Over episodes annotated with ``_response=_RESPONSE``.
_WITHIN_HOUR = Q(_response__lte=timedelta(hours=1))


def _band_q(index):
    _label, low, high = SPEED_BANDS[index]
    return Q(_response__gte=low) & (Q(_response__lt=high) if high is not None else Q())


def _percentile(queryset, expression, fraction, count):
    """Linear-interpolated percentile (as PostgreSQL's percentile_cont) by ordering in SQL; works on every backend."""
    if not count:
        return None
    position = fraction * (count - 1)
    lower = int(position)
    values = list(
        queryset.annotate(_value=expression).order_by("_value").values_list("_value", flat=True)[lower : lower + 2]
    )
    if len(values) == 1 or position == lower:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - lower)


def speed_to_lead(period, filters, *, as_of=None):
    """Return speed to lead for the period's MQLs answered by ``as_of``: median, mean, p90, bands, by rep, against the SLA; raises nothing."""
    as_of = _as_of(as_of)
    answered = followed_up_episodes(period, filters, as_of=as_of)
    band_counts = {f"band_{index}": Count("id", filter=_band_q(index)) for index in range(len(SPEED_BANDS))}
    within_sla = _within_window_q()
    totals = answered.annotate(_response=_RESPONSE).aggregate(
        responded=Count("id"),
        mean=Avg("_response"),
        within_hour=Count("id", filter=_WITHIN_HOUR),
        within_sla=Count("id", filter=within_sla),
        **band_counts,
    )
    responded = totals["responded"]
    windows = mql_episodes(period, filters, as_of=as_of).filter(due_at__isnull=False)
    window_count = windows.count()
    by_rep = (
        answered.annotate(_response=_RESPONSE)
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            responded=Count("id"),
            mean=Avg("_response"),
            within_hour=Count("id", filter=_WITHIN_HOUR),
            within_sla=Count("id", filter=within_sla),
        )
        .order_by("owner__username")
    )
    return SpeedToLead(
        responded=responded,
        median=_percentile(answered, _RESPONSE, 0.5, responded),
        mean=totals["mean"],
        p90=_percentile(answered, _RESPONSE, 0.9, responded),
        within_hour=totals["within_hour"],
        within_sla=totals["within_sla"],
        typical_window=_percentile(windows, _WINDOW, 0.5, window_count),
        bands=tuple(
            (label, totals[f"band_{index}"], Ratio(totals[f"band_{index}"], responded))
            for index, (label, _low, _high) in enumerate(SPEED_BANDS)
        ),
        by_rep=tuple(
            RepSpeed(
                rep_id=row["owner_id"],
                rep_name=(f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"])
                if row["owner_id"]
                else "Unassigned",
                responded=row["responded"],
                mean=row["mean"],
                within_hour=row["within_hour"],
                within_sla=row["within_sla"],
            )
            for row in by_rep
        ),
    )


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    count: int
    share: Ratio
    from_mql: int
    from_sal: int


@dataclass(frozen=True)
class RejectionReasons:
    formula = "rejected and disqualified MQLs by reason code ÷ all rejections of the period × 100"
    total: int
    reasons: tuple
    trend: tuple  # ((week_start_date, {code: count}), ...)
    by_source: tuple  # ((source, code, count), ...)
    by_campaign: tuple  # ((campaign, code, count), ...)


def rejection_reasons(period, filters, *, as_of=None):
    """Return rejections in ``period`` by reason code with share, weekly trend and source/campaign split; raises nothing."""
    rejected = rejected_episodes(period, filters, as_of=as_of)
    rows = list(
        rejected.values("rejection_reason__code", "rejection_reason__label")
        .annotate(
            count=Count("id"),
            from_mql=Count("id", filter=Q(rejected_from=MqlEpisode.RejectedFrom.MQL)),
            from_sal=Count("id", filter=Q(rejected_from=MqlEpisode.RejectedFrom.SAL)),
        )
        .order_by("-count", "rejection_reason__label")
    )
    total = sum(row["count"] for row in rows)
    weekly = (
        rejected.annotate(week=TruncWeek("rejected_at", tzinfo=period.zone))
        .values("week", "rejection_reason__code")
        .annotate(count=Count("id"))
        .order_by("week", "rejection_reason__code")
    )
    trend = {}
    for row in weekly:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        trend.setdefault(week, {})[row["rejection_reason__code"]] = row["count"]

    def split(field_name):
        return tuple(
            (row[field_name], row["rejection_reason__code"], row["count"])
            for row in rejected.values(field_name, "rejection_reason__code")
            .annotate(count=Count("id"))
            .order_by(field_name, "-count", "rejection_reason__code")
        )

    return RejectionReasons(
        total=total,
        reasons=tuple(
            ReasonCount(
                code=row["rejection_reason__code"],
                label=row["rejection_reason__label"],
                count=row["count"],
                share=Ratio(row["count"], total),
                from_mql=row["from_mql"],
                from_sal=row["from_sal"],
            )
            for row in rows
        ),
        trend=tuple(sorted(trend.items())),
        by_source=split("source"),
        by_campaign=split("campaign"),
    )


@dataclass(frozen=True)
class ConversationRate:
    formula = "leads with a logged conversation ÷ leads contacted × 100 (MQLs vs colder leads)"
    mql_contacted: int
    mql_conversations: int
    colder_contacted: int
    colder_conversations: int

    @property
    def mql(self):
        return Ratio(self.mql_conversations, self.mql_contacted)

    @property
    def colder(self):
        return Ratio(self.colder_conversations, self.colder_contacted)


def contacted_leads(period, filters, *, warmth=None, conversations_only=False):
    """Return the leads with a sales activity in ``period``; ``warmth`` 'mql' or 'colder' splits on whether they had been an MQL when first contacted in it; raises ReportInputError for an unknown warmth."""
    if warmth not in (None, "mql", "colder"):
        raise ReportInputError(f"Unknown lead group {warmth!r}; choose 'mql' or 'colder'.", field="group")
    in_period = Activity.objects.filter(
        kind__in=SALES_ACTIVITY_KINDS, occurred_at__gte=period.start_at, occurred_at__lt=period.end_at
    )
    first_contact = in_period.filter(lead=OuterRef("pk")).order_by("occurred_at").values("occurred_at")[:1]
    leads = Lead.objects.filter(Exists(in_period.filter(lead=OuterRef("pk"))))
    if filters.source:
        leads = leads.filter(source=filters.source)
    if filters.campaign:
        leads = leads.filter(campaign=filters.campaign)
    if filters.team is not None:
        leads = leads.filter(team_id=filters.team)
    if filters.rep is not None:
        leads = leads.filter(owner_id=filters.rep)
    leads = leads.annotate(
        first_contact=Subquery(first_contact),
        had_conversation=Exists(in_period.filter(lead=OuterRef("pk"), kind=ActivityKind.CONVERSATION)),
        was_mql=Exists(MqlEpisode.objects.filter(lead=OuterRef("pk"), mql_at__lte=OuterRef("first_contact"))),
    )
    if warmth == "mql":
        leads = leads.filter(was_mql=True)
    elif warmth == "colder":
        leads = leads.filter(was_mql=False)
    if conversations_only:
        leads = leads.filter(had_conversation=True)
    return leads


def conversation_rate(period, filters):
    """Return the conversation rate of contacted leads, MQLs vs colder leads; raises nothing."""
    counts = contacted_leads(period, filters).aggregate(
        mql_contacted=Count("id", filter=Q(was_mql=True)),
        mql_conversations=Count("id", filter=Q(was_mql=True, had_conversation=True)),
        colder_contacted=Count("id", filter=Q(was_mql=False)),
        colder_conversations=Count("id", filter=Q(was_mql=False, had_conversation=True)),
    )
    return ConversationRate(**counts)


@dataclass(frozen=True)
class MonthTarget:
    month: date
    mqls: int
    target: int | None

    @property
    def attainment(self):
        return Ratio(self.mqls, self.target or 0)


@dataclass(frozen=True)
class MqlTarget:
    formula = "MQLs produced per month ÷ the month's target × 100"
    months: tuple


def mql_target(period, filters, *, as_of=None):
    """Return MQLs per calendar month of ``period`` against each month's target; raises nothing."""
    from .models import MonthlyTarget

    produced = {
        (row["month"].date() if isinstance(row["month"], datetime) else row["month"]): row["count"]
        for row in mql_episodes(period, filters, as_of=as_of)
        .annotate(month=TruncMonth("mql_at", tzinfo=period.zone))
        .values("month")
        .annotate(count=Count("id"))
    }
    first = period.start.replace(day=1)
    months = []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    targets = dict(
        MonthlyTarget.objects.filter(month__in=months, team_id=filters.team).values_list("month", "mql_target")
    )
    return MqlTarget(months=tuple(MonthTarget(month=m, mqls=produced.get(m, 0), target=targets.get(m)) for m in months))


# The lists behind the numbers of the SLA and speed reports


def sla_closed_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs whose window has closed: answered, or expired unanswered, as of ``as_of``; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_sla_closed_q(as_of))


def sla_met_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs followed up within their window by ``as_of``; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_sla_within_q(as_of))


def sla_late_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs followed up by ``as_of`` but after their window closed; raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(_sla_late_q(as_of))


def responded_episodes(period, filters, *, band=None, within_hour=False, within_sla=False, as_of=None):
    """Return the period's MQLs answered by ``as_of``, optionally only one speed band (index into SPEED_BANDS), those within an hour or within their window; raises ReportInputError for an unknown band."""
    answered = followed_up_episodes(period, filters, as_of=as_of).annotate(_response=_RESPONSE)
    if band is not None:
        if not 0 <= band < len(SPEED_BANDS):
            raise ReportInputError(f"Unknown speed band {band!r}.", field="bucket")
        answered = answered.filter(_band_q(band))
    if within_hour:
        answered = answered.filter(_WITHIN_HOUR)
    if within_sla:
        answered = answered.filter(_within_window_q())
    return answered


# One registry of every number's list, for the drill-down page and the API's
# leads_url: (metric, bucket) -> (title, what the rows are, how to find them).

EPISODE_ROWS = "episodes"
LEAD_ROWS = "leads"


def _speed_bands():
    return {
        f"band_{index}": (
            f"MQLs answered in {label}",
            EPISODE_ROWS,
            lambda p, f, *, index=index, **kw: responded_episodes(p, f, band=index, as_of=kw["as_of"]),
        )
        for index, (label, _low, _high) in enumerate(SPEED_BANDS)
    }


DRILL_DOWNS = {
    "ignore_rate": {
        "mqls": ("MQLs of the period", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
        "ignored": (
            "Ignored MQLs: window expired, never followed up",
            EPISODE_ROWS,
            lambda p, f, **kw: ignored_episodes(p, f, as_of=kw["as_of"]),
        ),
        "awaiting": (
            "MQLs awaiting response: inside their window",
            EPISODE_ROWS,
            lambda p, f, **kw: awaiting_episodes(p, f, as_of=kw["as_of"]),
        ),
        "followed_up": (
            "MQLs followed up",
            EPISODE_ROWS,
            lambda p, f, **kw: followed_up_episodes(p, f, as_of=kw["as_of"]),
        ),
    },
    "conversion": {
        "mqls": ("MQLs of the period", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
        "sals": (
            "SALs: MQLs accepted by sales",
            EPISODE_ROWS,
            lambda p, f, **kw: accepted_episodes(p, f, view=kw["view"], as_of=kw["as_of"]),
        ),
        "sqls": (
            "SQLs: MQLs qualified to opportunities",
            EPISODE_ROWS,
            lambda p, f, **kw: qualified_episodes(p, f, view=kw["view"], as_of=kw["as_of"]),
        ),
    },
    "sla_compliance": {
        "closed": (
            "MQLs whose SLA window has closed",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_closed_episodes(p, f, as_of=kw["as_of"]),
        ),
        "within": (
            "MQLs followed up within their window",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_met_episodes(p, f, as_of=kw["as_of"]),
        ),
        "late": (
            "MQLs followed up after their window closed",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_late_episodes(p, f, as_of=kw["as_of"]),
        ),
        "never": (
            "MQLs never followed up, window expired",
            EPISODE_ROWS,
            lambda p, f, **kw: ignored_episodes(p, f, as_of=kw["as_of"]),
        ),
        "missed": (
            "MQLs that missed the SLA (late or never)",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_missed_episodes(p, f, as_of=kw["as_of"]),
        ),
    },
    "speed_to_lead": {
        "responded": ("MQLs followed up", EPISODE_ROWS, lambda p, f, **kw: responded_episodes(p, f, as_of=kw["as_of"])),
        "within_hour": (
            "MQLs followed up within an hour",
            EPISODE_ROWS,
            lambda p, f, **kw: responded_episodes(p, f, within_hour=True, as_of=kw["as_of"]),
        ),
        "within_sla": (
            "MQLs followed up within their SLA window",
            EPISODE_ROWS,
            lambda p, f, **kw: responded_episodes(p, f, within_sla=True, as_of=kw["as_of"]),
        ),
        **_speed_bands(),
    },
    "rejection_reasons": {
        "rejected": (
            "Rejected and disqualified MQLs",
            EPISODE_ROWS,
            lambda p, f, **kw: rejected_episodes(p, f, reason=kw["reason"], as_of=kw["as_of"]),
        ),
    },
    "conversation_rate": {
        "mql_contacted": ("MQLs contacted", LEAD_ROWS, lambda p, f, **kw: contacted_leads(p, f, warmth="mql")),
        "mql_conversations": (
            "MQLs with a logged conversation",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="mql", conversations_only=True),
        ),
        "colder_contacted": (
            "Colder leads contacted",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="colder"),
        ),
        "colder_conversations": (
            "Colder leads with a logged conversation",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="colder", conversations_only=True),
        ),
    },
    "mql_target": {
        "mqls": ("MQLs produced", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
    },
}


def drill_down(metric, bucket, period, filters, *, view=PERIOD_VIEW, as_of=None, reason=""):
    """Return (title, row kind, queryset) of the leads behind one number; raises ReportInputError for an unknown metric, bucket or view."""
    _check_view(view)
    if metric not in DRILL_DOWNS:
        choices = ", ".join(sorted(DRILL_DOWNS))
        raise ReportInputError(f"Unknown metric {metric!r}; choose one of {choices}.", field="metric")
    buckets = DRILL_DOWNS[metric]
    if bucket not in buckets:
        choices = ", ".join(buckets)
        raise ReportInputError(f"Unknown number {bucket!r} for {metric}; choose one of {choices}.", field="bucket")
    title, rows, find = buckets[bucket]
    return title, rows, find(period, filters, view=view, as_of=_as_of(as_of), reason=reason)


def month_part(period, month):
    """Return the part of ``period`` inside the calendar month that starts on ``month``, for a month's drill-down; raises ReportInputError when they do not overlap."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(max(month, period.start), min(last, period.end), period.tz)
