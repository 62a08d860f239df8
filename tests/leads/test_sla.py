import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from leads import jobs, notifications, sla, transitions
from leads.business_hours import BusinessCalendar
from leads.models import (
    BusinessHours,
    EventKind,
    Holiday,
    Lead,
    LeadEvent,
    OutboxMessage,
    SLAPolicy,
    SLASweepMark,
    Stage,
    TeamMember,
)

from ..factories import lead_in_stage, make_lead, make_user


@pytest.fixture
def office(db):
    hours = BusinessHours.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", opens=time(9), closes=time(17)
    )
    Holiday.objects.create(business_hours=hours, date=datetime(2026, 12, 25).date(), name="Christmas")
    return hours


def promote_at(when, *, marketer, **fields):
    return transitions.promote_to_mql(make_lead(now=when - timedelta(minutes=5), **fields), by=marketer, now=when)


# Policies and due times


def test_default_policy_exists_and_gives_one_hour_round_the_clock(rep, marketer):
    now = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # a Saturday night
    lead = promote_at(now, marketer=marketer)
    assert lead.sla_policy.is_default
    assert lead.sla_due_at == now + timedelta(hours=1)


def test_first_matching_policy_by_position_wins(rep, marketer, office):
    SLAPolicy.objects.create(name="Webinar", position=20, source="webinar", response_minutes=120)
    SLAPolicy.objects.create(name="Hot webinar", position=10, source="webinar", priority="high", response_minutes=15)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert promote_at(now, marketer=marketer, source="webinar", priority="high").sla_policy.name == "Hot webinar"
    assert promote_at(now, marketer=marketer, source="webinar").sla_policy.name == "Webinar"
    assert promote_at(now, marketer=marketer, source="organic").sla_policy.is_default


def test_business_hours_policy_due_time_skips_weekend_and_holiday(rep, marketer, office):
    SLAPolicy.objects.create(name="Two business days", position=1, response_minutes=2 * 8 * 60, business_hours=office)
    # Thursday 24 Dec 2026, 16:00 Berlin (15:00 UTC): 1 h that day, Christmas, weekend, Mon 8 h, Tue 7 h.
    start = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
    lead = promote_at(start, marketer=marketer)
    assert lead.sla_due_at == datetime(2026, 12, 29, 15, 0, tzinfo=UTC)  # Tue 16:00 Berlin


def test_changing_a_policy_keeps_the_due_times_already_promised(rep, marketer):
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    lead = promote_at(now, marketer=marketer)
    SLAPolicy.objects.filter(is_default=True).update(response_minutes=5)
    lead.refresh_from_db()
    assert lead.sla_due_at == now + timedelta(hours=1)
    assert promote_at(now, marketer=marketer).sla_due_at == now + timedelta(minutes=5)


def test_business_time_left_counts_only_working_time(rep, marketer, office):
    policy = SLAPolicy.objects.create(name="Office", position=1, response_minutes=60, business_hours=office)
    friday_late = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # 16:30 Berlin
    lead = promote_at(friday_late, marketer=marketer)
    assert lead.sla_due_at == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # Mon 09:30 Berlin
    left = sla.business_time_left(lead, friday_late, sla.calendar_of(policy))
    assert left == timedelta(hours=1)
    assert sla.business_time_left(lead, lead.sla_due_at + timedelta(minutes=10)) == -timedelta(minutes=10)


# The sweep


def overdue_mql(owner, *, minutes_late=5, now=None):
    lead = lead_in_stage(Stage.MQL, owner=owner)
    due = (now or timezone.now()) - timedelta(minutes=minutes_late)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=due)
    lead.refresh_from_db()
    return lead


def test_sweep_flags_overdue_unanswered_mqls_and_records_history(rep, other_rep, manager):
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    not_yet = lead_in_stage(Stage.MQL, owner=rep)
    Lead.objects.filter(pk=not_yet.pk).update(sla_due_at=now + timedelta(minutes=5))
    answered = overdue_mql(other_rep, now=now)
    transitions.log_activity(answered, by=other_rep, kind="call", now=now - timedelta(minutes=1))

    claimed = sla.flag_overdue_leads(now=now)

    assert claimed == [late.pk]
    late.refresh_from_db()
    assert late.sla_breached_at == now
    event = LeadEvent.objects.get(lead=late, kind=EventKind.SLA_BREACHED)
    assert event.actor is None
    assert event.owner == rep
    assert event.at == now
    assert event.from_stage == event.to_stage == Stage.MQL
    assert event.payload["due_at"].startswith(late.sla_due_at.strftime("%Y-%m-%dT%H:%M"))
    digests = sorted(
        (m.kind, m.recipient.username, m.context["lead_ids"], m.lead_id)
        for m in OutboxMessage.objects.exclude(kind="assigned")
    )
    assert digests == [("sla_breach_manager", "mona", [late.pk], None), ("sla_breach_owner", "rita", [late.pk], None)]


def test_sweep_flags_each_lead_once(rep, manager):
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    assert sla.flag_overdue_leads(now=now) == [late.pk]
    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == []
    assert LeadEvent.objects.filter(lead=late, kind=EventKind.SLA_BREACHED).count() == 1
    assert OutboxMessage.objects.exclude(kind="assigned").count() == 2


def test_sweep_respects_the_policys_notification_settings(rep, manager):
    SLAPolicy.objects.filter(is_default=True).update(notify_managers=False)
    now = timezone.now()
    overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)
    assert list(OutboxMessage.objects.exclude(kind="assigned").values_list("kind", flat=True)) == ["sla_breach_owner"]


def test_one_digest_per_recipient_lists_every_lead_the_sweep_claimed(rep, other_rep, manager, mailoutbox):
    now = timezone.now()
    ritas = [overdue_mql(rep, now=now, minutes_late=m) for m in (30, 20, 10)]
    oscars = [overdue_mql(other_rep, now=now) for _ in range(2)]
    sla.flag_overdue_leads(now=now)
    digests = {
        (m.kind, m.recipient.username): m.context["lead_ids"] for m in OutboxMessage.objects.exclude(kind="assigned")
    }
    assert digests[("sla_breach_owner", "rita")] == [lead.pk for lead in ritas]  # most overdue first
    assert sorted(digests[("sla_breach_owner", "oscar")]) == sorted(lead.pk for lead in oscars)
    assert sorted(digests[("sla_breach_manager", "mona")]) == sorted(lead.pk for lead in ritas + oscars)
    notifications.deliver_outbox(now=now)
    to_mona = next(m for m in mailoutbox if m.to == [manager.email] and "SLA missed" in m.subject)
    assert "5 MQLs" in to_mona.subject
    assert all(lead.name in to_mona.body for lead in ritas + oscars)
    assert "/team/breached/" in to_mona.body
    to_rita = next(m for m in mailoutbox if m.to == [rep.email] and "SLA missed" in m.subject)
    assert "3 of your MQLs" in to_rita.subject


def test_breach_emails_are_sent_once_with_stable_message_ids(rep, manager, mailoutbox):
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)
    first = notifications.deliver_outbox(now=now)
    again = notifications.deliver_outbox(now=now + timedelta(hours=1))
    assert again == 0
    breach_mails = [m for m in mailoutbox if "SLA missed" in m.subject]
    assert sorted(m.to[0] for m in breach_mails) == [manager.email, rep.email]
    assert first == len(mailoutbox)
    assert all(m.extra_headers["Message-ID"].startswith("<funnel-outbox-") for m in mailoutbox)
    owner_mail = next(m for m in breach_mails if m.to == [rep.email])
    assert late.name in owner_mail.subject
    assert f"/leads/{late.pk}/" in owner_mail.body


def test_outbox_row_claimed_by_a_dead_worker_is_retried_after_its_lease(rep, manager, mailoutbox, settings):
    settings.FUNNEL_OUTBOX_LEASE_SECONDS = 60
    now = timezone.now()
    overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)
    # A worker claimed everything and died before sending.
    OutboxMessage.objects.update(claimed_at=now, claim_token="dead")
    assert notifications.deliver_outbox(now=now + timedelta(seconds=30)) == 0
    assert notifications.deliver_outbox(now=now + timedelta(seconds=61)) == OutboxMessage.objects.count()
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_failed_send_is_recorded_and_retried(rep, manager, settings, monkeypatch):
    settings.FUNNEL_OUTBOX_LEASE_SECONDS = 60
    now = timezone.now()
    overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)

    def refuse(self, messages):
        raise OSError("SMTP server unavailable")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    assert notifications.deliver_outbox(now=now) == 0
    failed = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert failed.count() == OutboxMessage.objects.count()
    assert all(m.attempts == 1 and "SMTP server unavailable" in m.last_error for m in failed)
    monkeypatch.undo()
    assert notifications.deliver_outbox(now=now + timedelta(minutes=2)) == failed.count()


def test_answered_late_is_not_flagged_after_the_fact(rep):
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    transitions.accept_lead(late, by=rep, now=now)
    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == []


def test_reassignment_after_breach_restarts_the_clock_for_another_rep(rep, other_rep, manager):
    SLAPolicy.objects.filter(is_default=True).update(reassign_on_breach=True, reassign_after_minutes=30)
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)

    assert jobs.reassign_breached_leads(now=now + timedelta(minutes=10)) == 0
    assert jobs.reassign_breached_leads(now=now + timedelta(minutes=31)) == 1
    assert jobs.reassign_breached_leads(now=now + timedelta(minutes=32)) == 0

    late.refresh_from_db()
    assert late.owner == other_rep
    assert late.sla_breached_at is None
    assert late.sla_due_at == now + timedelta(minutes=31) + timedelta(hours=1)
    moved = LeadEvent.objects.get(lead=late, kind=EventKind.REASSIGNED)
    assert moved.actor is None
    assert moved.payload["from_owner"] == rep.pk


# Due times set behind the sweep's mark: each sweep reads only what became due since
# the last one, and must still find a lead whose due time lands before that.


def test_mql_whose_earlier_due_time_is_restored_after_the_sweep_passed_it_is_flagged(rep, manager):
    now = timezone.now()
    lead = lead_in_stage(Stage.MQL, owner=rep, now=now - timedelta(minutes=10))
    promised = lead.sla_due_at
    assert promised > now
    transitions.accept_lead(lead, by=rep, now=now)
    assert sla.flag_overdue_leads(now=promised + timedelta(minutes=5)) == []
    # An undo of the accept puts the lead back as it was, with the due time it was
    # promised, which has passed meanwhile: the next sweep must still see it.
    Lead.objects.filter(pk=lead.pk).update(
        stage=Stage.MQL, first_follow_up_at=None, accepted_at=None, sla_due_at=promised
    )

    assert sla.flag_overdue_leads(now=promised + timedelta(minutes=6)) == [lead.pk]
    assert sla.flag_overdue_leads(now=promised + timedelta(minutes=7)) == []
    assert breach_count(lead) == 1


def test_mql_whose_due_time_is_moved_back_behind_the_last_sweep_is_flagged(rep, manager):
    now = timezone.now()
    lead = lead_in_stage(Stage.MQL, owner=rep, now=now)
    assert sla.flag_overdue_leads(now=now) == []
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=now - timedelta(hours=1))

    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == [lead.pk]
    assert breach_count(lead) == 1


def test_lead_routed_with_a_due_time_already_past_is_flagged_by_the_next_sweep(rep, manager, marketer):
    now = timezone.now()
    sla.flag_overdue_leads(now=now)
    # Promoted as of two hours ago (a late import, a delayed task): due an hour ago,
    # before the sweep that has already run.
    late = promote_at(now - timedelta(hours=2), marketer=marketer)
    assert late.sla_due_at < now

    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == [late.pk]
    assert sla.flag_overdue_leads(now=now + timedelta(minutes=2)) == []


def test_mql_written_straight_into_the_table_behind_the_mark_is_flagged(rep, manager, team):
    now = timezone.now()
    sla.flag_overdue_leads(now=now)
    lead = Lead.objects.create(
        name="Loaded",
        email="loaded@example.com",
        stage=Stage.MQL,
        owner=rep,
        team=team,
        mql_episode=1,
        mql_at=now - timedelta(hours=3),
        sla_due_at=now - timedelta(hours=2),
    )
    # A later full save from the object in memory writes back the stamp it never read.
    lead.score = 5
    lead.save()

    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == [lead.pk]


def test_mark_restored_from_another_server_does_not_hide_a_due_time_moved_back(rep, manager):
    now = timezone.now()
    lead = lead_in_stage(Stage.MQL, owner=rep, now=now)
    sla.flag_overdue_leads(now=now)
    # A dump restored on a server whose transaction ids are lower than the old one's.
    SLASweepMark.objects.update(snapshot_xmin=F("snapshot_xmin") + 10**12)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=now - timedelta(hours=1))

    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == [lead.pk]


def test_reassigned_breached_lead_is_flagged_again_once_its_new_clock_runs_out(rep, other_rep, manager):
    now = timezone.now()
    late = overdue_mql(rep, now=now)
    assert sla.flag_overdue_leads(now=now) == [late.pk]
    transitions.reassign_lead(late, by=manager, to=other_rep, now=now + timedelta(minutes=5))
    late.refresh_from_db()
    assert late.sla_breached_at is None

    assert sla.flag_overdue_leads(now=late.sla_due_at - timedelta(seconds=1)) == []
    assert sla.flag_overdue_leads(now=late.sla_due_at) == [late.pk]
    assert sla.flag_overdue_leads(now=late.sla_due_at + timedelta(minutes=1)) == []
    assert breach_count(late) == 2


def breach_count(lead):
    return LeadEvent.objects.filter(lead=lead, kind=EventKind.SLA_BREACHED).count()


# Routing


def test_rotation_is_fair_over_time(team, marketer):
    reps = [make_user(f"r{i}", role="rep", team=team) for i in range(3)]
    now = timezone.now()
    owners = [promote_at(now, marketer=marketer).owner for _ in range(30)]
    assert {rep: owners.count(rep) for rep in reps} == dict.fromkeys(reps, 10)
    assert owners[:3] == reps and owners[3:6] == reps


def test_rep_at_capacity_is_skipped_and_gets_leads_again_once_below(rep, other_rep, marketer):
    TeamMember.objects.filter(user=rep).update(mql_capacity=1)
    now = timezone.now()
    first = promote_at(now, marketer=marketer)
    owners = [promote_at(now, marketer=marketer).owner for _ in range(3)]
    assert first.owner == rep
    assert owners == [other_rep, other_rep, other_rep]
    transitions.accept_lead(first, by=rep)
    assert promote_at(now, marketer=marketer).owner == rep


def test_unassigned_mqls_are_routed_once_capacity_frees_up(rep, other_rep, manager, marketer):
    TeamMember.objects.filter(role="rep").update(mql_capacity=1)
    now = timezone.now()
    held = [promote_at(now, marketer=marketer) for _ in range(2)]
    waiting = promote_at(now, marketer=marketer)
    assert waiting.owner is None
    assert jobs.route_waiting_mqls(now=now) == 0

    transitions.accept_lead(held[0], by=held[0].owner, now=now)
    assert jobs.route_waiting_mqls(now=now + timedelta(minutes=1)) == 1
    waiting.refresh_from_db()
    assert waiting.owner == held[0].owner
    assert waiting.sla_due_at == now + timedelta(minutes=1) + timedelta(hours=1)
    assert jobs.route_waiting_mqls(now=now + timedelta(minutes=2)) == 0


def test_accepting_triggers_routing_of_waiting_mqls(
    rep, other_rep, manager, marketer, django_capture_on_commit_callbacks
):
    TeamMember.objects.filter(role="rep").update(mql_capacity=1)
    held = [promote_at(timezone.now(), marketer=marketer) for _ in range(2)]
    waiting = promote_at(timezone.now(), marketer=marketer)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.accept_lead(held[1], by=held[1].owner)
    waiting.refresh_from_db()
    assert waiting.owner == held[1].owner


# Concurrency on PostgreSQL


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_flag_and_notify_each_lead_exactly_once(rep, other_rep, manager):
    now = timezone.now()
    late = [overdue_mql(owner, now=now) for owner in (rep, other_rep) for _ in range(20)]
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(sla.flag_overdue_leads(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    claimed = [lead_id for result in results for lead_id in result]
    assert sorted(claimed) == sorted(lead.pk for lead in late)
    assert LeadEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == len(late)
    for kind in ("sla_breach_owner", "sla_breach_manager"):
        listed = [i for m in OutboxMessage.objects.filter(kind=kind) for i in m.context["lead_ids"]]
        assert sorted(listed) == sorted(lead.pk for lead in late), kind


@pytest.mark.django_db(transaction=True)
def test_due_time_moved_back_while_a_sweep_runs_is_flagged_by_the_next_sweep(rep, manager):
    now = timezone.now()
    lead = lead_in_stage(Stage.MQL, owner=rep, now=now)
    sla.flag_overdue_leads(now=now - timedelta(minutes=1))
    written, swept = threading.Event(), threading.Event()

    def move_due_time_back():
        # Not yet committed when the sweep takes its snapshot, committed before the next.
        try:
            with transaction.atomic():
                Lead.objects.filter(pk=lead.pk).update(sla_due_at=now - timedelta(hours=1))
                written.set()
                swept.wait(timeout=10)
        finally:
            connection.close()

    writer = threading.Thread(target=move_due_time_back)
    writer.start()
    assert written.wait(timeout=10)
    assert sla.flag_overdue_leads(now=now) == []
    swept.set()
    writer.join(timeout=30)

    assert sla.flag_overdue_leads(now=now + timedelta(minutes=1)) == [lead.pk]
    assert breach_count(lead) == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_at_once_send_each_email_once(rep, other_rep, manager, mailoutbox):
    now = timezone.now()
    for _ in range(15):
        overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)
    total = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    assert total == 2  # Rita's digest and her manager's
    mailoutbox.clear()
    barrier = threading.Barrier(2)
    counts = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            counts.append(notifications.deliver_outbox(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(counts) == total
    ids = [m.extra_headers["Message-ID"] for m in mailoutbox]
    assert len(ids) == len(set(ids)) == total


def test_a_row_taken_over_by_another_run_mid_batch_is_not_sent_twice(rep, manager, mailoutbox, monkeypatch):
    now = timezone.now()
    overdue_mql(rep, now=now)
    sla.flag_overdue_leads(now=now)
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    first, second = list(pending.order_by("id"))[-2:]
    real_claim = notifications._claim

    def claim_then_lose_one(now, limit):
        claimed = real_claim(now, limit)
        # Another run reclaims one row after this run's lease lapsed mid-batch.
        OutboxMessage.objects.filter(pk=second.pk).update(claim_token="other-run")
        return claimed

    monkeypatch.setattr(notifications, "_claim", claim_then_lose_one)
    sent = notifications.deliver_outbox(now=now)
    assert sent == OutboxMessage.objects.filter(sent_at__isnull=False).count()
    assert OutboxMessage.objects.get(pk=second.pk).sent_at is None
    assert OutboxMessage.objects.get(pk=first.pk).sent_at is not None
    assert all(m.extra_headers["Message-ID"] != f"<funnel-outbox-{second.pk}@funnel.localhost>" for m in mailoutbox)


# The clock the pages show


def berlin(day, hour):
    """A wall-clock time in Berlin, 27 February to 4 March 2026 (Monday is the 2nd)."""
    return datetime(2026, 2 if day > 20 else 3, day, hour, tzinfo=ZoneInfo("Europe/Berlin"))


def test_working_time_changes_skip_weekends_and_holidays(db):
    calendar = BusinessCalendar("Europe/Berlin", frozenset(range(5)), time(9), time(17), frozenset({date(2026, 3, 2)}))
    changes = sla.working_time_changes(berlin(27, 16), calendar, limit=4)
    assert changes == (berlin(27, 17), berlin(3, 9), berlin(3, 17), berlin(4, 9))
    # From a closed moment the first change is the next opening.
    assert sla.working_time_changes(berlin(28, 12), calendar, limit=1) == (berlin(3, 9),)


def test_clock_follows_the_stored_due_time_when_a_holiday_leaves_no_business_time_before_it(office, rep, marketer):
    policy = SLAPolicy.objects.create(name="Berlin", position=1, response_minutes=240, business_hours=office)
    lead = promote_at(berlin(27, 16), marketer=marketer, source="web")
    assert (lead.sla_policy, lead.sla_due_at) == (policy, berlin(2, 12))
    lead = Lead.objects.select_related("sla_policy__business_hours").get(pk=lead.pk)

    before = sla.SlaClocks(berlin(27, 16)).clock(lead)
    Holiday.objects.create(business_hours=office, date=date(2026, 3, 2))
    friday, saturday = sla.SlaClocks(berlin(27, 16)).clock(lead), sla.SlaClocks(berlin(28, 12)).clock(lead)

    assert (before.left, before.changes) == (timedelta(hours=4), (berlin(27, 17), berlin(2, 9)))
    # Friday's last business hour still counts down as business time, and stops at closing ...
    assert (friday.left, friday.changes, friday.counts_business_time) == (timedelta(hours=1), (berlin(27, 17),), True)
    # ... after which the real time to the due time Monday noon is what is left: never a clock stuck at zero.
    assert (saturday.left, saturday.counts_business_time, saturday.is_paused) == (timedelta(days=2), False, False)
    assert saturday.due_at == berlin(2, 12) and not saturday.breached


def test_a_newline_in_a_leads_name_or_company_does_not_stop_the_owner_hearing_of_the_breach(rep, manager, mailoutbox):
    now = timezone.now()
    lead = overdue_mql(rep, now=now)
    Lead.objects.filter(pk=lead.pk).update(name="Eve\nBcc: all@example.com", company='Smith & "Sons"\r\n<Ltd>')
    sla.flag_overdue_leads(now=now)

    notifications.deliver_outbox(now=now)

    to_rita = next(m for m in mailoutbox if m.to == [rep.email] and m.subject.startswith("SLA missed"))
    assert to_rita.subject == 'SLA missed: Eve Bcc: all@example.com (Smith & "Sons" <Ltd>) is waiting for your answer'
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_e_mail_subjects_and_text_parts_are_not_html_escaped(rep, manager, mailoutbox):
    lead = lead_in_stage(Stage.LEAD, name="Zoë O'Brien", company='Smith & "Sons" <Ltd>')
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    notifications.queue_assignment_email(Lead.objects.get(pk=lead.pk))

    notifications.deliver_outbox()

    message = next(m for m in mailoutbox if m.to == [rep.email])
    assert message.subject == """New MQL for you: Zoë O'Brien (Smith & "Sons" <Ltd>)"""
    assert """Zoë O'Brien from Smith & "Sons" <Ltd> is now yours""" in message.body
    html = message.alternatives[0][0] if isinstance(message.alternatives[0], tuple) else message.alternatives[0].content
    assert "Smith &amp; &quot;Sons&quot; &lt;Ltd&gt;" in html
