"""Rejection reasons: why sales rejects MQLs (or disqualifies SALs), by reason, week, source and campaign."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from leads.models import MqlEpisode

from .episodes import rejected_episodes
from .period import Ratio


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
