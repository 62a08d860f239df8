"""The rejection review: rejections by reason, week, source and campaign, and the latest notes."""

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, ngettext

from leads import access

from .. import metrics
from ..templatetags.reports_ui import number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker

RECENT_NOTES = 20
# How an episode was rejected (``MqlEpisode.RejectedFrom``), shown through ``|translated`` in the notes.
REJECTED_FROM_LABELS = (gettext_noop("Rejected as MQL"), gettext_noop("Disqualified after acceptance"))


def _reason_data(result, link):
    """The total and the rejections by reason of ``RejectionReasons`` or ``ReasonCounts``, by name."""
    return {
        "rejections": Number(
            gettext("Rejections"),
            result.total,
            "int",
            link("rejected"),
            gettext("rejected as MQL or disqualified as SAL"),
        ),
        "reasons": [
            {"reason": r, "rejections": Number(r.label, r.count, "int", link("rejected", reason=r.code))}
            for r in result.reasons
        ],
    }


def _numbers(data):
    """The big numbers: the total and the top reason."""
    numbers = [data["rejections"]]
    if data["reasons"]:
        top, rejections = data["reasons"][0]["reason"], data["reasons"][0]["rejections"]
        numbers.append(
            Number(
                gettext("Top reason: %(reason)s") % {"reason": top.label},
                top.share,
                "percent",
                rejections.link,
                ngettext("%(count)s rejection", "%(count)s rejections", top.count) % {"count": number(top.count)},
            )
        )
    return numbers


def rejection_reasons_card(form, as_of, *, leads_url=None):
    """The overview's card: the total and the top reason, without trend, splits and notes."""
    result = metrics.rejection_reason_counts(form.period, form.filters, as_of=as_of)
    data = _reason_data(result, _linker(form, as_of, "rejection_reasons", leads_url))
    return Report(REPORTS_BY_SLUG["rejection_reasons"], _numbers(data), [], data=data)


def build_rejection_reasons(form, as_of, *, reason="", leads_url=None):
    result = metrics.rejection_reasons(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "rejection_reasons", leads_url)
    labels = {r.code: r.label for r in result.reasons}

    def splits(rows, name):
        return [
            {
                "value": value,
                "code": code,
                "rejections": Number(
                    value, count, "int", link("rejected", reason=code, **{name: value}) if value else ""
                ),
            }
            for value, code, count in rows
        ]

    data = {
        **_reason_data(result, link),
        "trend_by_reason": [
            {"week": week, "code": code, "count": n} for week, counts in result.trend for code, n in counts.items()
        ],
        "by_source": splits(result.by_source, "source"),
        "by_campaign": splits(result.by_campaign, "campaign"),
    }
    reason_rows = [
        [
            Cell(row["reason"].label),
            row["rejections"],
            Cell(row["reason"].share, "percent"),
            Cell(row["reason"].from_mql, "int"),
            Cell(row["reason"].from_sal, "int"),
        ]
        for row in data["reasons"]
    ]
    codes = [r.code for r in result.reasons]
    trend_rows = [
        [Cell(week, "week"), *(Cell(counts.get(code, 0), "int") for code in codes)] for week, counts in result.trend
    ]

    def split_rows(splits):
        return [
            [
                Cell(split["value"] or gettext("(none)")),
                Cell(labels.get(split["code"], split["code"])),
                split["rejections"],
            ]
            for split in splits
        ]

    # Okabe and Ito's colours, told apart with any colour vision (static/js/reports.js): the seven
    # most frequent reasons get one each, any others are stacked together in grey.
    palette = tuple(f"cb{index}" for index in range(1, 8))
    charted, others = codes[: len(palette)], codes[len(palette) :]
    trend_sets = [
        _dataset(labels[code], [counts.get(code, 0) for _week, counts in result.trend], tone=tone)
        for code, tone in zip(charted, palette, strict=False)
    ]
    if others:
        trend_sets.append(
            _dataset(
                gettext("Other reasons (%(count)s)") % {"count": len(others)},
                [sum(counts.get(code, 0) for code in others) for _week, counts in result.trend],
                tone="cbother",
            )
        )
    charts = [
        _chart(
            "rejection-chart",
            "bar",
            gettext("Rejections by reason"),
            [r.label for r in result.reasons],
            [
                _dataset(
                    gettext("Rejections"),
                    [row["rejections"].value for row in data["reasons"]],
                    tone="bad",
                    links=[row["rejections"].link for row in data["reasons"]],
                )
            ],
            horizontal=True,
        ),
        _chart(
            "rejection-trend-chart",
            "bar",
            gettext("Weekly trend by reason"),
            [date_format(week, "MONTH_DAY_FORMAT") for week, _counts in result.trend],
            trend_sets,
            stacked=True,
        ),
    ]
    notes = (
        metrics.rejected_episodes(form.period, form.filters, reason=reason, as_of=as_of, with_notes=True)
        .select_related("lead", "owner", "rejection_reason")
        .annotate(lead_visible=access.lead_is_visible(form.user, "lead_id"))
        .order_by("-rejected_at", "-id")[:RECENT_NOTES]
    )
    return Report(
        REPORTS_BY_SLUG["rejection_reasons"],
        _numbers(data),
        [
            Table(
                "reasons",
                gettext("By reason"),
                (
                    gettext("Reason"),
                    gettext("Rejections"),
                    gettext("Share"),
                    gettext("As MQL"),
                    gettext("After acceptance"),
                ),
                reason_rows,
            ),
            Table(
                "trend-by-reason",
                gettext("Weekly trend by reason (weeks start on Monday)"),
                (gettext("Week"), *(labels[c] for c in codes)),
                trend_rows,
            ),
            Table(
                "by-source",
                gettext("By source"),
                (gettext("Source"), gettext("Reason"), gettext("Rejections")),
                split_rows(data["by_source"]),
            ),
            Table(
                "by-campaign",
                gettext("By campaign"),
                (gettext("Campaign"), gettext("Reason"), gettext("Rejections")),
                split_rows(data["by_campaign"]),
            ),
        ],
        charts,
        extra={
            "notes": notes,
            "reasons": result.reasons,
            "reason": reason,
            "reason_label": labels.get(reason, reason),
            "notes_link": link("with_notes", reason=reason or None),
        },
        data=data,
    )
