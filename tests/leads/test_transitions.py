from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import transitions
from leads.models import (
    Activity,
    EventKind,
    Lead,
    LeadEvent,
    MqlEpisode,
    OutboxMessage,
    OutOfOffice,
    SLAPolicy,
    Stage,
    Team,
    TeamMember,
)
from leads.transitions import ALLOWED_MOVES, IllegalTransition, InvalidInput, NotPermitted

from ..factories import lead_in_stage, make_lead, make_team, make_user, reason

ALL_STAGES = [Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL, Stage.REJECTED, Stage.MERGED]


def snapshot(lead):
    """What a refused action must leave untouched."""
    lead = Lead.objects.get(pk=lead.pk)
    return (
        lead.stage,
        lead.owner_id,
        lead.version,
        lead.first_follow_up_at,
        lead.sla_due_at,
        LeadEvent.objects.filter(lead=lead).count(),
        Activity.objects.filter(lead=lead).count(),
    )


def perform(verb, lead, *, by, to=None):
    """Call the transition function for ``verb`` with valid arguments."""
    if verb == "promote":
        return transitions.promote_to_mql(lead, by=by)
    if verb == "accept":
        return transitions.accept_lead(lead, by=by)
    if verb == "reject":
        return transitions.reject_lead(lead, by=by, reason="no-budget", note="no money this year")
    if verb == "qualify":
        return transitions.qualify_lead(lead, by=by)
    if verb == "disqualify":
        return transitions.disqualify_lead(lead, by=by, reason="not-decision-maker")
    if verb == "recycle":
        return transitions.recycle_lead(lead, by=by)
    if verb == "reassign":
        return transitions.reassign_lead(lead, by=by, to=to)
    if verb == "log_activity":
        return transitions.log_activity(lead, by=by, kind="call", note="left a voicemail")
    if verb == "opt_out":
        return transitions.opt_out_lead(lead, by=by, source="email_request")
    if verb == "erase":
        return transitions.erase_lead(lead, by=by)
    if verb == "merge":
        return transitions.merge_lead(lead, by=by, into=make_lead())[0]
    if verb == "unmerge":
        return transitions.unmerge_lead(lead, by=by)
    raise AssertionError(verb)


ALLOWED_CASES = [(verb, stage) for verb, (sources, _) in ALLOWED_MOVES.items() for stage in sorted(sources)]
REFUSED_CASES = [
    (verb, stage) for verb, (sources, _) in ALLOWED_MOVES.items() for stage in ALL_STAGES if stage not in sources
]


@pytest.mark.parametrize(("verb", "stage"), ALLOWED_CASES)
def test_every_allowed_move_changes_stage_and_writes_one_event(verb, stage, rep, other_rep, manager, admin):
    lead = lead_in_stage(stage, owner=rep)
    events_before = LeadEvent.objects.filter(lead=lead).count()
    target = ALLOWED_MOVES[verb][1] or stage
    if verb == "unmerge":
        target = Stage.LEAD  # the stage the lead had when it was merged (lead_in_stage)

    result = perform(verb, lead, by=admin, to=other_rep)

    result.refresh_from_db()
    assert result.stage == target
    events = list(LeadEvent.objects.filter(lead=lead).order_by("id"))
    assert len(events) == events_before + 1
    last = events[-1]
    assert last.actor == admin
    assert last.from_stage == stage
    assert last.to_stage == target


@pytest.mark.parametrize(("verb", "stage"), REFUSED_CASES)
def test_every_move_not_in_the_table_is_refused_and_changes_nothing(verb, stage, rep, other_rep, admin):
    lead = lead_in_stage(stage, owner=rep)
    before = snapshot(lead)

    with pytest.raises(IllegalTransition) as excinfo:
        perform(verb, lead, by=admin, to=other_rep)

    assert "Cannot" in excinfo.value.message
    assert str(Stage(stage).label) in excinfo.value.message
    assert snapshot(lead) == before


def test_promote_routes_round_robin_and_starts_the_sla_clock(rep, other_rep, marketer, settings):
    settings.FUNNEL_DEFAULT_SLA_MINUTES = 60
    now = timezone.now()
    owners = []
    for _ in range(4):
        lead = transitions.promote_to_mql(make_lead(), by=marketer, now=now)
        owners.append(lead.owner)
        assert lead.mql_at == now
        assert lead.sla_due_at == now + timedelta(hours=1)
        assert lead.mql_episode == 1
    assert owners == [rep, other_rep, rep, other_rep]


def test_promote_skips_unavailable_reps_and_leaves_mql_unassigned_when_nobody_can_take_it(rep, other_rep, marketer):
    TeamMember.objects.filter(user=rep).update(is_available=False)
    lead = transitions.promote_to_mql(make_lead(), by=marketer)
    assert lead.owner == other_rep

    TeamMember.objects.filter(user=other_rep).update(mql_capacity=1)
    unassigned = transitions.promote_to_mql(make_lead(), by=marketer)
    assert unassigned.stage == Stage.MQL
    assert unassigned.owner is None
    assert unassigned.sla_due_at is None
    event = LeadEvent.objects.get(lead=unassigned, kind=EventKind.PROMOTED)
    assert event.payload["routed_to"] is None


def test_promote_without_any_team_is_refused(marketer):
    lead = make_lead()
    with pytest.raises(InvalidInput, match="No sales team"):
        transitions.promote_to_mql(lead, by=marketer)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_accept_records_follow_up_and_stops_the_clock(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    now = timezone.now()
    lead = transitions.accept_lead(lead, by=rep, now=now)
    assert lead.first_follow_up_at == now
    assert lead.accepted_at == now
    assert Lead.objects.awaiting_response().filter(pk=lead.pk).count() == 0


def test_reject_requires_reason(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput, match="reason is required") as excinfo:
        transitions.reject_lead(lead, by=rep, reason="")
    assert excinfo.value.field == "reason"
    assert snapshot(lead) == before


def test_reject_refuses_unknown_and_retired_reason_codes(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput, match="Unknown rejection reason 'nope'"):
        transitions.reject_lead(lead, by=rep, reason="nope")
    retired = reason("competitor")
    retired.is_active = False
    retired.save()
    with pytest.raises(InvalidInput, match="no longer in use"):
        transitions.reject_lead(lead, by=rep, reason="competitor")
    assert snapshot(lead) == before


def test_reject_writes_reason_and_note_to_history(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    lead = transitions.reject_lead(lead, by=rep, reason="personal-email", note="gmail address, no company")
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event.kind == EventKind.REJECTED
    assert event.reason.code == "personal-email"
    assert event.note == "gmail address, no company"
    assert event.actor == rep
    assert event.owner == rep
    assert lead.rejection_reason.code == "personal-email"
    assert lead.first_follow_up_at is not None


def test_disqualify_requires_reason(rep):
    lead = lead_in_stage(Stage.SAL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput):
        transitions.disqualify_lead(lead, by=rep, reason=None)
    assert snapshot(lead) == before


def test_note_longer_than_limit_is_refused(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput, match="too long"):
        transitions.accept_lead(lead, by=rep, note="x" * 2001)
    assert snapshot(lead) == before


def test_recycle_returns_lead_to_nurture_and_keeps_history(rep, marketer):
    lead = lead_in_stage(Stage.REJECTED, owner=rep)
    events_before = LeadEvent.objects.filter(lead=lead).count()
    lead = transitions.recycle_lead(lead, by=marketer, note="new budget cycle")
    assert lead.stage == Stage.LEAD
    assert lead.owner is None
    assert lead.rejection_reason is None
    assert LeadEvent.objects.filter(lead=lead).count() == events_before + 1


def test_recycled_lead_promoted_again_starts_a_new_episode(rep, marketer):
    lead = lead_in_stage(Stage.REJECTED, owner=rep)
    lead = transitions.recycle_lead(lead, by=marketer)
    lead = transitions.promote_to_mql(lead, by=marketer)
    assert lead.mql_episode == 2
    assert lead.first_follow_up_at is None
    promoted = LeadEvent.objects.filter(lead=lead, kind=EventKind.PROMOTED).order_by("id")
    assert [e.episode for e in promoted] == [1, 2]


def test_reassign_of_awaiting_mql_restarts_the_clock_for_the_new_owner(rep, other_rep, manager, settings):
    settings.FUNNEL_DEFAULT_SLA_MINUTES = 60
    lead = lead_in_stage(Stage.MQL, owner=rep)
    now = timezone.now() + timedelta(hours=3)
    lead = transitions.reassign_lead(lead, by=manager, to=other_rep, now=now)
    assert lead.owner == other_rep
    assert lead.sla_due_at == now + timedelta(hours=1)
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event.kind == EventKind.REASSIGNED
    assert event.payload["from_owner"] == rep.pk
    assert event.payload["to_owner"] == other_rep.pk
    assert event.payload["sla_restarted"] is True


def test_reassign_of_accepted_lead_keeps_its_dates(rep, other_rep, manager):
    lead = lead_in_stage(Stage.SAL, owner=rep)
    due = lead.sla_due_at
    lead = transitions.reassign_lead(lead, by=manager, to=other_rep)
    assert lead.owner == other_rep
    assert lead.sla_due_at == due


def test_reassign_refuses_someone_outside_the_team_and_the_current_owner(rep, manager, marketer):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput, match="not an active rep"):
        transitions.reassign_lead(lead, by=manager, to=marketer)
    with pytest.raises(IllegalTransition, match="already owned"):
        transitions.reassign_lead(lead, by=manager, to=rep)
    with pytest.raises(InvalidInput):
        transitions.reassign_lead(lead, by=manager, to=None)
    assert snapshot(lead) == before


def test_manager_assigns_an_unassigned_mql(rep, other_rep, manager, marketer):
    TeamMember.objects.filter(role="rep").update(is_available=False)
    lead = transitions.promote_to_mql(make_lead(), by=marketer)
    assert lead.owner is None
    lead = transitions.reassign_lead(lead, by=manager, to=rep)
    assert lead.owner == rep
    assert lead.sla_due_at is not None


def test_logging_a_sales_activity_counts_as_first_follow_up(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    now = timezone.now()
    lead = transitions.log_activity(lead, by=rep, kind="call", note="spoke to assistant", now=now)
    assert lead.stage == Stage.MQL
    assert lead.first_follow_up_at == now
    activity = Activity.objects.get(lead=lead)
    assert activity.kind == "call"
    assert activity.actor == rep
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event.kind == EventKind.ACTIVITY
    assert event.payload["first_follow_up"] is True


def test_second_activity_does_not_move_the_first_follow_up(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    first = timezone.now()
    transitions.log_activity(lead, by=rep, kind="email", now=first)
    lead = transitions.log_activity(lead, by=rep, kind="call", now=first + timedelta(minutes=5))
    assert lead.first_follow_up_at == first


def test_activity_refuses_marketing_kinds_and_future_times(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(InvalidInput, match="Unknown sales activity"):
        transitions.log_activity(lead, by=rep, kind="website_visit")
    with pytest.raises(InvalidInput, match="future"):
        transitions.log_activity(lead, by=rep, kind="call", occurred_at=timezone.now() + timedelta(hours=1))
    assert snapshot(lead) == before


def test_create_lead_refuses_duplicate_email_in_any_case(marketer):
    make_lead(by=marketer, email="Jane.Doe@Example.com")
    with pytest.raises(InvalidInput, match="already exists") as excinfo:
        make_lead(by=marketer, email="jane.doe@example.COM")
    assert excinfo.value.field == "email"
    assert Lead.objects.count() == 1


def test_create_lead_writes_created_event(marketer):
    lead = make_lead(by=marketer, source="webinar")
    event = LeadEvent.objects.get(lead=lead)
    assert event.kind == EventKind.CREATED
    assert event.actor == marketer
    assert event.to_stage == Stage.LEAD


def test_stale_copy_of_a_lead_cannot_overwrite_a_newer_action(rep, other_rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    stale = Lead.objects.get(pk=lead.pk)
    transitions.accept_lead(lead, by=rep)
    with pytest.raises(IllegalTransition):
        transitions.reject_lead(stale, by=rep, reason="no-budget")
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SAL


def test_user_outside_the_team_cannot_act(rep):
    outsider = make_user(role="rep")
    lead = lead_in_stage(Stage.MQL, owner=rep)
    before = snapshot(lead)
    with pytest.raises(NotPermitted):
        transitions.accept_lead(lead, by=outsider)
    assert snapshot(lead) == before


def test_promotion_queues_the_owner_email_and_delivers_it_after_commit(
    rep, marketer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = transitions.promote_to_mql(make_lead(name="Jane Buyer", company="Globex"), by=marketer)
    assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [lead.owner.email]
    assert "Jane Buyer" in message.subject
    assert f"/leads/{lead.pk}/" in message.body
    assert message.alternatives[0][1] == "text/html"


def test_refused_move_queues_no_email(rep, marketer, mailoutbox, django_capture_on_commit_callbacks):
    lead = lead_in_stage(Stage.SAL, owner=rep)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(IllegalTransition):
        transitions.promote_to_mql(lead, by=marketer)
    assert callbacks == []
    assert mailoutbox == []


def test_reassignment_emails_the_new_owner(rep, other_rep, manager, mailoutbox, django_capture_on_commit_callbacks):
    # One delivery after the commit sends what the promotion and the reassignment queued.
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_in_stage(Stage.MQL, owner=rep)
        transitions.reassign_lead(lead, by=manager, to=other_rep)
    to_new_owner = [m for m in mailoutbox if m.to == [other_rep.email]]
    assert len(to_new_owner) == 1
    assert lead.name in to_new_owner[0].subject
    assert OutboxMessage.objects.filter(recipient=other_rep, sent_at__isnull=False).count() == 1


def test_each_mql_episode_is_mirrored_for_reports(rep, other_rep, manager, marketer):
    start = timezone.now() - timedelta(days=2)
    lead = transitions.promote_to_mql(make_lead(source="webinar", campaign="Q3"), by=marketer, now=start)
    owner = lead.owner
    lead = transitions.log_activity(lead, by=owner, kind="call", now=start + timedelta(minutes=7))
    lead = transitions.accept_lead(lead, by=owner, now=start + timedelta(minutes=9))
    lead = transitions.disqualify_lead(
        lead, by=owner, reason="no-budget", note="frozen", now=start + timedelta(hours=2)
    )
    lead = transitions.recycle_lead(lead, by=marketer, now=start + timedelta(days=1))
    lead = transitions.promote_to_mql(lead, by=marketer, now=start + timedelta(days=1, hours=1))

    first, second = MqlEpisode.objects.filter(lead=lead).order_by("number")
    assert (first.number, second.number) == (1, 2)
    # The lead's episode number counts its episodes: the MQL target's pacing reads "ever an MQL" from it.
    assert lead.mql_episode == Lead.objects.get(pk=lead.pk).mql_episode == 2
    assert first.source == "webinar" and first.campaign == "Q3"
    assert first.mql_at == start
    assert first.first_follow_up_at == start + timedelta(minutes=7)
    assert first.accepted_at == start + timedelta(minutes=9)
    assert first.rejected_at == start + timedelta(hours=2)
    assert first.rejected_from == "sal"
    assert first.rejection_reason.code == "no-budget"
    assert first.rejection_note == "frozen"
    assert first.recycled_at == start + timedelta(days=1)
    assert second.mql_at == start + timedelta(days=1, hours=1)
    assert second.first_follow_up_at is None
    assert second.due_at == lead.sla_due_at


def test_reassignment_moves_the_episode_owner_and_due_time(rep, other_rep, manager):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    now = timezone.now()
    lead = transitions.reassign_lead(lead, by=manager, to=other_rep, now=now)
    episode = MqlEpisode.objects.get(lead=lead)
    assert episode.owner == other_rep
    assert episode.due_at == lead.sla_due_at


def test_promoting_a_batch_leaves_what_promoting_each_lead_in_id_order_leaves(
    team, rep, other_rep, django_capture_on_commit_callbacks
):
    now, limit = timezone.now().replace(microsecond=0), 40
    south = make_team("South")
    tess = make_user("tess", role="rep", team=team, first_name="Tess", last_name="Twice")
    TeamMember.objects.create(team=south, user=tess)  # two teams, one count of open MQLs
    TeamMember.objects.filter(user=tess).update(routing_weight=2)
    cara = make_user("cara", role="rep", team=team)
    TeamMember.objects.filter(user=cara).update(mql_capacity=2)  # room for one more MQL
    oona = make_user("oona", role="rep", team=team)
    OutOfOffice.objects.create(user=oona, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    sam = make_user("sam", role="rep", team=south)
    una = make_user("una", role="rep", team=south)
    una.email = ""  # no address: no e-mail queued
    una.save(update_fields=["email"])
    lead_in_stage(Stage.MQL, owner=cara, team=team, now=now - timedelta(hours=2))
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, email="ann@globex.example", now=now - timedelta(hours=2))
    lead_in_stage(Stage.MQL, owner=oona, team=team, email="ann@initech.example", now=now - timedelta(hours=2))
    lead_in_stage(Stage.SQL, owner=sam, team=south, email="ann@umbrella.example", now=now - timedelta(hours=2))
    SLAPolicy.objects.create(name="Webinars", source="webinar", response_minutes=15, position=1)
    batch = [
        make_lead(email="bob@globex.example", team=team),  # the account's rep
        make_lead(email="cid@globex.example", team=team),
        make_lead(email="bob@initech.example", team=team),  # the account's rep is out of office
        make_lead(email="bob@umbrella.example", team=team),  # the account's rep is not in this team
        make_lead(email="cid@umbrella.example", team=south),
        make_lead(email="bob@hooli.example", team=team),  # round-robin, then the account's rep
        make_lead(email="cid@hooli.example", team=team),
        make_lead(email="dan@hooli.example", team=south),
        make_lead(team=None),  # the first active team
        make_lead(team=None, source="webinar"),
        *(make_lead(team=team, source=("webinar" if n % 3 else "")) for n in range(8)),
        *(make_lead(team=south) for _ in range(4)),
    ]
    not_ready = [make_lead(team=team), lead_in_stage(Stage.MQL, team=team, now=now - timedelta(hours=1))]
    Lead.objects.filter(pk__in=[lead.pk for lead in batch] + [not_ready[1].pk]).update(score=limit + 5)
    Lead.objects.filter(pk=not_ready[0].pk).update(score=limit - 1)
    ids = [lead.pk for lead in reversed(batch + not_ready)]
    first_event = LeadEvent.objects.order_by("-id").values_list("id", flat=True)[0] + 1
    # The setup's promotions queued the outbox delivery already; each path must queue it again.
    transaction.get_connection().run_on_commit.clear()

    def one_by_one(ids):
        for lead in Lead.objects.filter(pk__in=ids, stage=Stage.LEAD, score__gte=limit).order_by("pk"):
            transitions.promote_to_mql(lead, by=None, now=now, note=f"Score {lead.score} reached {limit}.")

    def outcome(promote):
        with transaction.atomic():
            with django_capture_on_commit_callbacks() as callbacks:
                promote(ids)
            leads = Lead.objects.filter(pk__in=ids).order_by("pk")
            result = {
                "leads": list(
                    leads.values_list("pk", "stage", "team", "owner", "version", "mql_episode", "sla_policy")
                ),
                "clocks": list(leads.values_list("mql_at", "sla_due_at", "sla_risk_at", "updated_at")),
                "episodes": list(
                    MqlEpisode.objects.filter(lead_id__in=ids)
                    .order_by("id")
                    .values_list("lead", "number", "team", "owner", "source", "mql_at", "due_at")
                ),
                "events": list(
                    LeadEvent.objects.filter(id__gte=first_event)
                    .order_by("id")
                    .values_list(
                        "lead", "kind", "at", "actor", "from_stage", "to_stage", "owner", "episode", "note", "payload"
                    )
                ),
                "rotation": list(
                    TeamMember.objects.order_by("id").values_list("routing_pass", "last_turn", "last_routed_at")
                )
                + list(Team.objects.order_by("id").values_list("routing_pass", "routing_turns")),
                "outbox": list(
                    OutboxMessage.objects.filter(lead_id__in=ids)
                    .order_by("id")
                    .values_list("kind", "lead", "recipient", "to_email", "dedupe_key")
                ),
                "after_commit": [callback.task_name for callback in callbacks],
            }
            transaction.set_rollback(True)  # the other path starts from the same rows
        return result

    one = outcome(one_by_one)
    together = outcome(lambda ids: transitions.promote_if_ready(ids, now=now, limit=limit))

    assert together == one
    decisions = [payload["routing"] for *_row, payload in one["events"]]
    assert len(decisions) == len(batch)
    assert {decision["rule"] for decision in decisions} == {"account_owner", "round_robin"}
    reasons = {row["reason"] for decision in decisions for row in decision["skipped"]}
    assert {
        "out of office",
        "at capacity (2 of 2 open MQLs)",
        "owns a lead of the account but is out of office",
    } <= reasons
    assert "owns a lead of the account but is not a rep of North" in reasons
    assert one["after_commit"] == ["leads.tasks.deliver_outbox_task"]
    owners = [owner for _pk, stage, _team, owner, *_rest in one["leads"] if stage == Stage.MQL]
    assert len(one["outbox"]) == len([owner for owner in owners if owner is not None and owner != una.pk]) > 0
    assert una.pk in owners


def test_promoting_a_batch_takes_as_many_statements_for_twelve_leads_as_for_two(team, rep, other_rep):
    now = timezone.now()
    statements = []
    for size in (2, 12):
        ids = [make_lead(team=team).pk for _ in range(size)]
        Lead.objects.filter(pk__in=ids).update(score=50)
        with CaptureQueriesContext(connection) as queries:
            promoted = transitions.promote_if_ready(ids, now=now, limit=40)
        assert [lead.pk for lead in promoted] == sorted(ids)
        statements.append(len(queries))
    assert statements[0] == statements[1]
