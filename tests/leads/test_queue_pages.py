"""The queue's pages (sla.Queue: five ranges read from indexes) hold the leads of one ORDER BY of the whole queue."""

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When
from django.utils import timezone

from leads import sla
from leads.models import Lead, Stage

from ..factories import lead_in_stage


def queue_order(now, *, breached_first=False):
    """The queue's order as one ORDER BY of all its leads: what sla.Queue reads a page at a time."""
    breached = Q(sla_due_at__lte=now) & (Q(first_follow_up_at__isnull=True) | Q(sla_breached_at__isnull=False))
    is_breached = Case(When(breached, then=Value(1)), default=Value(0), output_field=IntegerField())
    in_time_due = Case(When(breached, then=Value(None)), default=F("sla_due_at"), output_field=DateTimeField())
    breached_due = Case(When(breached, then=F("sla_due_at")), default=Value(None), output_field=DateTimeField())
    group = is_breached.desc() if breached_first else is_breached.asc()
    return (group, in_time_due.asc(nulls_last=True), breached_due.desc(nulls_last=True), "mql_at", "id")


@pytest.fixture
def every_kind_of_mql(rep, team):
    """Open MQLs of ``rep`` in every range, with due times shared between leads so the tie-breakers count."""
    now = timezone.now()
    leads = [lead_in_stage(Stage.MQL, owner=rep, team=team, name=f"Lead {n}") for n in range(24)]
    due = [
        now + timedelta(minutes=30),
        now + timedelta(minutes=30),  # the same due time: mql_at, then id decide
        now + timedelta(minutes=5),
        now + timedelta(hours=5),
        now - timedelta(minutes=1),
        now - timedelta(minutes=1),
        now - timedelta(days=83),
        now - timedelta(hours=2),
        None,
        None,
    ]
    for n, lead in enumerate(leads):
        changes = {"sla_due_at": due[n % len(due)], "mql_at": now - timedelta(hours=3, minutes=n % 4)}
        past_due = changes["sla_due_at"] is not None and changes["sla_due_at"] <= now
        if past_due and n % 3 == 0:  # answered late, and flagged before
            changes.update(first_follow_up_at=now, sla_breached_at=now)
        elif past_due and n % 3 == 1:  # answered, never flagged
            changes.update(first_follow_up_at=now - timedelta(seconds=30))
        elif changes["sla_due_at"] is not None and n % 5 == 0:  # answered before its due time
            changes.update(first_follow_up_at=now - timedelta(minutes=1))
        Lead.objects.filter(pk=lead.pk).update(**changes)
    lead_in_stage(Stage.SAL, owner=rep, team=team, name="Not in the queue")
    return now


@pytest.mark.parametrize("breached_first", [False, True])
@pytest.mark.parametrize("per_page", [1, 5, 7, 50])
def test_every_page_holds_the_leads_of_the_whole_queue_sorted(rep, every_kind_of_mql, breached_first, per_page):
    now = every_kind_of_mql
    mqls = Lead.objects.filter(owner=rep, stage=Stage.MQL)
    expected = list(mqls.order_by(*queue_order(now, breached_first=breached_first)).values_list("id", flat=True))

    paginator = Paginator(sla.Queue(mqls, now, breached_first=breached_first), per_page)
    pages = [[lead.pk for lead in paginator.page(number).object_list] for number in paginator.page_range]

    assert [pk for page in pages for pk in page] == expected
    assert len(expected) == 24


def test_the_queue_order_puts_in_time_before_breached(rep, every_kind_of_mql):
    now = every_kind_of_mql
    rows = sla.Queue(Lead.objects.filter(owner=rep, stage=Stage.MQL), now)[0:24]
    breached = [
        lead.sla_due_at <= now and (lead.first_follow_up_at is None or lead.sla_breached_at is not None)
        if lead.sla_due_at
        else False
        for lead in rows
    ]

    assert breached == sorted(breached)  # every in-time lead before every breached one
    assert 0 < breached.count(True) < len(rows)


def test_a_page_past_the_end_is_empty(rep, every_kind_of_mql):
    queue = sla.Queue(Lead.objects.filter(owner=rep, stage=Stage.MQL), every_kind_of_mql)

    assert queue[24:30] == []
    assert queue[5:5] == []
