import pytest
from django.db import DatabaseError, connection, transaction

from leads.models import AppendOnlyError, EventKind, LeadEvent, Stage

from ..factories import lead_in_stage


def test_full_walk_writes_one_event_per_step_with_actor_time_and_stages(rep, marketer):
    lead = lead_in_stage(Stage.SQL, owner=rep)
    events = list(LeadEvent.objects.filter(lead=lead).order_by("at", "id"))
    assert [e.kind for e in events] == [
        EventKind.CREATED,
        EventKind.PROMOTED,
        EventKind.ACCEPTED,
        EventKind.QUALIFIED,
    ]
    assert [(e.from_stage, e.to_stage) for e in events] == [
        ("", "lead"),
        ("lead", "mql"),
        ("mql", "sal"),
        ("sal", "sql"),
    ]
    assert all(e.at is not None for e in events)
    assert events == sorted(events, key=lambda e: e.at)


def test_orm_refuses_to_update_or_delete_events(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    event = LeadEvent.objects.filter(lead=lead).first()
    event.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        LeadEvent.objects.filter(lead=lead).update(note="x")
    with pytest.raises(AppendOnlyError):
        LeadEvent.objects.filter(lead=lead).delete()


def test_database_refuses_raw_update_of_history(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE leads_leadevent SET note = 'forged' WHERE lead_id = %s", [lead.pk])
    assert not LeadEvent.objects.filter(note="forged").exists()


def test_database_refuses_raw_delete_of_history(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    count = LeadEvent.objects.filter(lead=lead).count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_leadevent WHERE lead_id = %s", [lead.pk])
    assert LeadEvent.objects.filter(lead=lead).count() == count


def test_database_refuses_truncate_of_history(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    count = LeadEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        # The test's own inserts leave deferred foreign-key checks pending; settle them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # CASCADE: the tables that point at the history (webhook deliveries, chat notices) would not stop it.
        cursor.execute("TRUNCATE leads_leadevent CASCADE")
    assert LeadEvent.objects.filter(lead=lead).exists()
    assert LeadEvent.objects.count() == count


def test_a_lead_with_history_cannot_be_deleted(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_lead WHERE id = %s", [lead.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert type(lead).objects.filter(pk=lead.pk).exists()
