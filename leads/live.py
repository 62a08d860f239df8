"""Rows that stay true: what others did to the leads on a user's page since it was drawn.

A page carries a cursor (the newest history row id when it was rendered) and polls
``changes`` with the ids of its rows: one request per interval, whatever the number
of rows. A row someone else changed turns into a line saying who did what and when.
"""

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from . import access
from .models import EventKind, LeadEvent
from .templatetags.leads_ui import time_since

# What a stale row says, per kind of history row: who, and how long ago ("2 Minuten").
SENTENCES = {
    EventKind.UPDATED: gettext_lazy("%(who)s edited the details of this %(ago)s ago."),
    EventKind.ACCEPTED: gettext_lazy("%(who)s accepted this %(ago)s ago."),
    EventKind.REJECTED: gettext_lazy("%(who)s rejected this %(ago)s ago."),
    EventKind.QUALIFIED: gettext_lazy("%(who)s qualified this %(ago)s ago."),
    EventKind.DISQUALIFIED: gettext_lazy("%(who)s disqualified this %(ago)s ago."),
    EventKind.RECYCLED: gettext_lazy("%(who)s recycled this %(ago)s ago."),
    EventKind.REASSIGNED: gettext_lazy("%(who)s reassigned this %(ago)s ago."),
    EventKind.ACTIVITY: gettext_lazy("%(who)s logged an activity on this %(ago)s ago."),
    EventKind.OPTED_OUT: gettext_lazy("%(who)s recorded an opt-out for this %(ago)s ago."),
    EventKind.ERASED: gettext_lazy("%(who)s erased this %(ago)s ago."),
    EventKind.UNDONE: gettext_lazy("%(who)s undid an action on this %(ago)s ago."),
    EventKind.PROMOTED: gettext_lazy("%(who)s promoted this %(ago)s ago."),
    EventKind.SLA_BREACHED: gettext_lazy("%(who)s flagged an SLA breach on this %(ago)s ago."),
}

MAX_ROWS = 200


def cursor():
    """Return the id of the newest history row (0 when there is none); raises nothing."""
    return LeadEvent.objects.aggregate(newest=Max("id"))["newest"] or 0


def changes(user, lead_ids, *, after, now=None):
    """Return (the new cursor, {lead id: a sentence}) for the history rows after ``after`` on ``lead_ids`` by others; raises nothing.

    Only leads ``user`` sees now count, and those reassigned away from ``user``: a caller
    learns nothing about leads that were never theirs.
    """
    now = now or timezone.now()
    lead_ids = list(lead_ids)[:MAX_ROWS]
    if not lead_ids:
        return after, {}
    visible = access.visible_leads(user).filter(pk__in=lead_ids).values("pk")
    moved_away = Q(kind=EventKind.REASSIGNED, payload__from_owner=user.pk)
    events = (
        LeadEvent.objects.filter(Q(lead_id__in=visible) | moved_away, lead_id__in=lead_ids, id__gt=after)
        .exclude(kind=EventKind.SCORE_CHANGED)
        .exclude(actor_id=user.pk)
        .select_related("actor", "owner")
        .order_by("id")
    )
    newest, lines = after, {}
    for event in events:
        newest = max(newest, event.pk)
        lines[event.lead_id] = sentence(event, now=now)
    return newest, lines


def new_mqls(user, lead_ids, *, after):
    """Return the ids of MQLs routed or reassigned to ``user`` after the cursor ``after`` that are not among ``lead_ids``; raises nothing.

    ``after`` is the cursor the page was drawn with, not the one ``changes`` moves on: a new
    MQL stays new until the page is drawn again.
    """
    arrived = (
        LeadEvent.objects.filter(
            id__gt=after, kind__in=[EventKind.PROMOTED, EventKind.REASSIGNED], owner_id=user.pk, to_stage="mql"
        )
        .exclude(lead_id__in=list(lead_ids)[:MAX_ROWS])
        .values_list("lead_id", flat=True)
    )
    return sorted(set(arrived))


def sentence(event, *, now):
    """What ``event`` did, as a stale row says it: "Mona Schulz accepted this 2 minutes ago"."""
    values = {
        "who": (event.actor.get_full_name() or event.actor.get_username()) if event.actor else "Funnel",
        "ago": time_since(event.at, now, depth=1),
    }
    if event.kind == EventKind.REASSIGNED and event.owner is not None:
        values["owner"] = event.owner.get_full_name() or event.owner.get_username()
        return gettext("%(who)s reassigned this to %(owner)s %(ago)s ago.") % values
    return str(SENTENCES.get(event.kind) or gettext("%(who)s changed this %(ago)s ago.")) % values
