"""The episodes (and, for the conversation rate, the leads) behind each number.

Every metric counts one of these querysets, or the same ``Q`` conditions over
``mql_episodes``, and the drill-down pages list them (see ``drill_downs``), so a
number and its list can never disagree. The conditions take ``as_of`` because
whether an MQL is ignored, awaiting or answered depends on when you look.
"""

from datetime import timedelta

from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.utils.translation import gettext, gettext_lazy

from leads.models import SALES_ACTIVITY_KINDS, Activity, ActivityKind, Lead, MqlEpisode

from .period import PERIOD_VIEW, ReportInputError, _as_of, _check_view, _in

SPEED_BANDS = (
    (gettext_lazy("0–5 min"), timedelta(0), timedelta(minutes=5)),
    (gettext_lazy("5–15 min"), timedelta(minutes=5), timedelta(minutes=15)),
    (gettext_lazy("15–60 min"), timedelta(minutes=15), timedelta(minutes=60)),
    (gettext_lazy("1–4 h"), timedelta(hours=1), timedelta(hours=4)),
    (gettext_lazy("4–24 h"), timedelta(hours=4), timedelta(hours=24)),
    (gettext_lazy("1–3 days"), timedelta(days=1), timedelta(days=3)),
    (gettext_lazy("over 3 days"), timedelta(days=3), None),
)

# Grouping episodes by current owner: .values(*_BY_OWNER), then _rep_name(row).
_BY_OWNER = ("owner_id", "owner__username", "owner__first_name", "owner__last_name")


def _rep_name(row):
    if not row["owner_id"]:
        return gettext("Unassigned")
    return f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]


def mql_episodes(period, filters, *, as_of=None):
    """Return the MQL episodes created in ``period`` (up to ``as_of``) matching ``filters``; raises nothing."""
    return filters.apply(MqlEpisode.objects.filter(_in(period, "mql_at"), mql_at__lte=_as_of(as_of)))


# Conditions over episodes, as of an instant


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


# Time to first follow-up, over episodes annotated with ``_response=_RESPONSE``.
_RESPONSE = ExpressionWrapper(F("first_follow_up_at") - F("mql_at"), output_field=DurationField())
_WITHIN_HOUR = Q(_response__lte=timedelta(hours=1))


def _band_q(index):
    _label, low, high = SPEED_BANDS[index]
    return Q(_response__gte=low) & (Q(_response__lt=high) if high is not None else Q())


# Ignore rate


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


# Conversion


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


# Rejection reasons


def rejected_episodes(period, filters, *, reason=None, as_of=None, with_notes=False):
    """Return episodes rejected or disqualified in ``period`` (optionally with one reason code, or only those with a note); raises nothing."""
    episodes = filters.apply(MqlEpisode.objects.filter(_in(period, "rejected_at"), rejected_at__lte=_as_of(as_of)))
    if reason:
        episodes = episodes.filter(rejection_reason__code=reason)
    if with_notes:
        episodes = episodes.exclude(rejection_note="")
    return episodes


# SLA compliance


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


def sla_missed_episodes(period, filters, *, as_of=None):
    """Return the period's MQLs whose window closed before their first follow-up (late or never); raises nothing."""
    as_of = _as_of(as_of)
    return mql_episodes(period, filters, as_of=as_of).filter(
        _sla_expired_q(as_of) & (_not_followed_up_by(as_of) | Q(first_follow_up_at__gt=F("due_at")))
    )


# Speed to lead


def responded_episodes(period, filters, *, band=None, within_hour=False, within_sla=False, as_of=None):
    """Return the period's MQLs answered by ``as_of``, optionally only one speed band (index into SPEED_BANDS), those within an hour or within their window; raises ReportInputError for an unknown band."""
    answered = followed_up_episodes(period, filters, as_of=as_of).annotate(_response=_RESPONSE)
    if band is not None:
        if not 0 <= band < len(SPEED_BANDS):
            raise ReportInputError(gettext("Unknown speed band %(band)s.") % {"band": repr(band)}, field="bucket")
        answered = answered.filter(_band_q(band))
    if within_hour:
        answered = answered.filter(_WITHIN_HOUR)
    if within_sla:
        answered = answered.filter(_within_window_q())
    return answered


# Conversation rate: leads, not episodes


def contacted_leads(period, filters, *, warmth=None, conversations_only=False):
    """Return the leads with a sales activity in ``period``; ``warmth`` 'mql' or 'colder' splits on whether they had been an MQL when first contacted in it; raises ReportInputError for an unknown warmth."""
    if warmth not in (None, "mql", "colder"):
        raise ReportInputError(
            gettext("Unknown lead group %(group)s; choose 'mql' or 'colder'.") % {"group": repr(warmth)}, field="group"
        )
    in_period = Activity.objects.filter(
        kind__in=SALES_ACTIVITY_KINDS, occurred_at__gte=period.start_at, occurred_at__lt=period.end_at
    )
    first_contact = in_period.filter(lead=OuterRef("pk")).order_by("occurred_at").values("occurred_at")[:1]
    leads = filters.apply(Lead.objects.filter(Exists(in_period.filter(lead=OuterRef("pk")))))
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


# Response-time effect


def answered_episodes(period, filters, *, within_hour, qualified=False, as_of=None):
    """Return the period's MQLs answered by ``as_of`` within an hour (or later), optionally only those qualified (SQL) by then; raises nothing."""
    as_of = _as_of(as_of)
    answered = followed_up_episodes(period, filters, as_of=as_of).annotate(_response=_RESPONSE)
    answered = answered.filter(_WITHIN_HOUR) if within_hour else answered.exclude(_WITHIN_HOUR)
    if qualified:
        answered = answered.filter(qualified_at__lte=as_of)
    return answered
