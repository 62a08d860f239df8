"""What is timed: each report's metric function, API endpoint and hand-written SQL, and the period variants."""

import dataclasses
import os
from datetime import timedelta

from django.contrib.auth import get_user_model

from reports import metrics

from .hand_sql import (
    CONTACTS_ALL,
    CONTACTS_OF_REP,
    SQL_CONVERSATION_RATE,
    SQL_CONVERSION,
    SQL_IGNORE_RATE,
    SQL_MQL_TARGET,
    SQL_OVERVIEW,
    SQL_REJECTION_REASONS,
    SQL_SLA_COMPLIANCE,
    SQL_SPEED_TO_LEAD,
    conversation_rate_numbers,
    conversion_numbers,
    ignore_rate_numbers,
    mql_target_numbers,
    overview_headlines,
    overview_metrics,
    overview_numbers,
    rejection_reasons_numbers,
    sla_compliance_numbers,
    speed_to_lead_numbers,
)
from .spec import LONG_PERIOD_DAYS, NOW, PERIOD_DAYS


def plain(value):
    return value if isinstance(value, dict) else dataclasses.asdict(value)


@dataclasses.dataclass(frozen=True)
class ReportCase:
    slug: str
    api: str
    metric: object  # (period, filters, as_of) -> what reports.metrics returns
    sql: str
    numbers: object  # the SQL's rows -> the same value
    headlines: object = plain  # the metric result -> the plain values compared


REPORTS = (
    ReportCase(
        "ignore_rate",
        "reports_api:ignore-rate",
        lambda p, f, as_of: metrics.ignore_rate(p, f, as_of=as_of),
        SQL_IGNORE_RATE,
        ignore_rate_numbers,
    ),
    ReportCase(
        "conversion",
        "reports_api:conversion",
        lambda p, f, as_of: metrics.conversion(p, f, view=metrics.PERIOD_VIEW, as_of=as_of),
        SQL_CONVERSION,
        conversion_numbers,
    ),
    ReportCase(
        "speed_to_lead",
        "reports_api:speed-to-lead",
        lambda p, f, as_of: metrics.speed_to_lead(p, f, as_of=as_of),
        SQL_SPEED_TO_LEAD,
        speed_to_lead_numbers,
    ),
    ReportCase(
        "sla_compliance",
        "reports_api:sla-compliance",
        lambda p, f, as_of: metrics.sla_compliance(p, f, as_of=as_of),
        SQL_SLA_COMPLIANCE,
        sla_compliance_numbers,
    ),
    ReportCase(
        "rejection_reasons",
        "reports_api:rejection-reasons",
        lambda p, f, as_of: metrics.rejection_reasons(p, f, as_of=as_of),
        SQL_REJECTION_REASONS,
        rejection_reasons_numbers,
    ),
    ReportCase(
        "conversation_rate",
        "reports_api:conversation-rate",
        lambda p, f, as_of: metrics.conversation_rate(p, f),
        SQL_CONVERSATION_RATE,
        conversation_rate_numbers,
    ),
    ReportCase(
        "mql_target",
        "reports_api:mql-target",
        lambda p, f, as_of: metrics.mql_target(p, f, as_of=as_of),
        SQL_MQL_TARGET,
        mql_target_numbers,
    ),
    ReportCase(
        "overview", "reports_api:overview", overview_metrics, SQL_OVERVIEW, overview_numbers, overview_headlines
    ),
)


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    label: str
    rep: int | None = None
    days: int = PERIOD_DAYS

    @property
    def period(self):
        """The last ``days`` days up to NOW, in UTC."""
        return metrics.Period(NOW.date() - timedelta(days=self.days - 1), NOW.date(), "UTC")

    @property
    def filters(self):
        return metrics.Filters(rep=self.rep)

    def query(self):
        """The report form's query parameters: the period, 'as of' pinned to NOW, the rep."""
        query = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), "tz": self.period.tz}
        query.update(view=metrics.PERIOD_VIEW, as_of=NOW.isoformat())
        return {**query, "rep": self.rep} if self.rep else query

    def sql(self, text):
        fragments = {
            "rep": " AND owner_id = %(rep)s" if self.rep else "",
            "episode_rep": " AND e.owner_id = %(rep)s" if self.rep else "",
            "contacts": CONTACTS_OF_REP if self.rep else CONTACTS_ALL,
            "team": "t.team_id IS NULL AND t.rep_id IS NOT DISTINCT FROM %(rep)s",
        }
        return text.format(**fragments)

    def params(self):
        period = self.period
        return {
            "start": period.start_at,
            "end": period.end_at,
            "as_of": NOW,
            "tz": period.tz,
            "start_date": period.start,
            "end_date": period.end,
            "rep": self.rep,
        }


# BENCH_REPORTS_VARIANTS=all_365 (comma-separated names) times only those variants and skips the pages.
VARIANTS_ENV = "BENCH_REPORTS_VARIANTS"


def all_variants():
    """The 90-day period every report is timed for, the same for one rep, and the last 365 days (no filter)."""
    rep = get_user_model().objects.get(username="bench-rep-03")
    return (
        Variant("all", f"last {PERIOD_DAYS} days, no filter"),
        Variant("rep", f"last {PERIOD_DAYS} days, one rep ({rep.username})", rep.pk),
        Variant(f"all_{LONG_PERIOD_DAYS}", f"last {LONG_PERIOD_DAYS} days, no filter", days=LONG_PERIOD_DAYS),
    )


def chosen_variant_names():
    """The variant names BENCH_REPORTS_VARIANTS asks for, or None for every variant."""
    names = [name.strip() for name in os.environ.get(VARIANTS_ENV, "").split(",") if name.strip()]
    return names or None


def variants():
    """The variants timed in this run: all of them, or those BENCH_REPORTS_VARIANTS names."""
    everything = all_variants()
    names = chosen_variant_names()
    if names is None:
        return everything
    unknown = set(names) - {variant.name for variant in everything}
    if unknown:
        raise ValueError(f"{VARIANTS_ENV}: unknown variant {', '.join(sorted(unknown))}")
    return tuple(variant for variant in everything if variant.name in names)


def page_variants():
    """The overview page for the report period, for one rep, and for its default length (30 days)."""
    return (*all_variants()[:2], Variant("all_30d", "last 30 days (the page's default length), no filter", days=30))
