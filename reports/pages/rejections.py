"""The rejection review: rejections by reason, week, source and campaign, and the latest notes."""

from leads import access

from .. import metrics
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker

RECENT_NOTES = 20


def _numbers(result, link):
    """The total and the top reason, from ``RejectionReasons`` or ``ReasonCounts``."""
    numbers = [Number("Rejections", result.total, "int", link("rejected"), "rejected as MQL or disqualified as SAL")]
    if result.reasons:
        top = result.reasons[0]
        numbers.append(
            Number(
                f"Top reason: {top.label}",
                top.share,
                "percent",
                link("rejected", reason=top.code),
                f"{top.count:,} rejections",
            )
        )
    return numbers


def rejection_reasons_card(form, as_of):
    """The overview's card: the total and the top reason, without trend, splits and notes."""
    result = metrics.rejection_reason_counts(form.period, form.filters, as_of=as_of)
    numbers = _numbers(result, _linker(form, as_of, "rejection_reasons"))
    return Report(REPORTS_BY_SLUG["rejection_reasons"], numbers, [])


def build_rejection_reasons(form, as_of, *, reason=""):
    result = metrics.rejection_reasons(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "rejection_reasons")
    labels = {r.code: r.label for r in result.reasons}
    numbers = _numbers(result, link)
    reason_rows = [
        [
            Cell(r.label),
            Cell(r.count, "int", link("rejected", reason=r.code)),
            Cell(r.share, "percent"),
            Cell(r.from_mql, "int"),
            Cell(r.from_sal, "int"),
        ]
        for r in result.reasons
    ]
    codes = [r.code for r in result.reasons]
    trend_rows = [
        [Cell(week, "week"), *(Cell(counts.get(code, 0), "int") for code in codes)] for week, counts in result.trend
    ]

    def split_rows(splits, name):
        return [
            [
                Cell(value or "(none)"),
                Cell(labels.get(code, code)),
                Cell(count, "int", link("rejected", reason=code, **{name: value}) if value else ""),
            ]
            for value, code, count in splits
        ]

    palette = ("primary", "bad", "wait", "good", "info", "muted")
    charts = [
        _chart(
            "rejection-chart",
            "bar",
            "Rejections by reason",
            [r.label for r in result.reasons],
            [
                _dataset(
                    "Rejections",
                    [r.count for r in result.reasons],
                    tone="bad",
                    links=[link("rejected", reason=r.code) for r in result.reasons],
                )
            ],
            horizontal=True,
        ),
        _chart(
            "rejection-trend-chart",
            "line",
            "Weekly trend by reason",
            [week.isoformat() for week, _counts in result.trend],
            [
                _dataset(
                    labels[code],
                    [counts.get(code, 0) for _week, counts in result.trend],
                    tone=palette[i % len(palette)],
                )
                for i, code in enumerate(codes)
            ],
        ),
    ]
    notes = (
        metrics.rejected_episodes(form.period, form.filters, reason=reason, as_of=as_of)
        .exclude(rejection_note="")
        .select_related("lead", "owner", "rejection_reason")
        .annotate(lead_visible=access.lead_is_visible(form.user, "lead_id"))
        .order_by("-rejected_at", "-id")[:RECENT_NOTES]
    )
    return Report(
        REPORTS_BY_SLUG["rejection_reasons"],
        numbers,
        [
            Table("reasons", "By reason", ("Reason", "Rejections", "Share", "As MQL", "After acceptance"), reason_rows),
            Table("trend", "Weekly trend (weeks start on Monday)", ("Week", *(labels[c] for c in codes)), trend_rows),
            Table("by-source", "By source", ("Source", "Reason", "Rejections"), split_rows(result.by_source, "source")),
            Table(
                "by-campaign",
                "By campaign",
                ("Campaign", "Reason", "Rejections"),
                split_rows(result.by_campaign, "campaign"),
            ),
        ],
        charts,
        extra={
            "notes": notes,
            "reasons": result.reasons,
            "reason": reason,
            "reason_label": labels.get(reason, reason),
            "notes_link": link("rejected", reason=reason or None),
        },
    )
