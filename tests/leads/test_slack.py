"""Slack and Teams: notices out through a real HTTP stand-in of Slack's Web API, actions in through
the interactivity endpoint with requests signed the way Slack signs them."""

import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from leads import chat, sla, transitions
from leads.models import (
    ChatNotice,
    EventKind,
    Lead,
    LeadEvent,
    NoticeKind,
    NotificationPreferences,
    SlackIdentity,
    Stage,
    TeamChat,
)

from ..factories import lead_in_stage, make_user
from ..support.receiver import Receiver, SlackAPI

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ENDPOINT = "/integrations/slack/interactivity/"


@pytest.fixture
def slack_api(settings, team):
    with SlackAPI(
        users={"URITA": "rita@example.com", "UMONA": "mona@example.com", "USTRANGER": "x@else.example"}
    ) as api:
        settings.SLACK_API_URL = api.url
        settings.SLACK_BOT_TOKEN = "xoxb-test-token"
        settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
        TeamChat.objects.create(team=team, slack_channel="CTEAM")
        yield api


@pytest.fixture
def rita(rep):
    """The team's only rep (rita@example.com), so every MQL is routed to her."""
    return rep


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The receivers these tests start listen on 127.0.0.1 (on under DEBUG, whatever CI sets)."""
    settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE = True


def slack_request(client, payload, *, secret=SIGNING_SECRET, age=0, signature=None):
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time()) - age)
    base = f"v0:{timestamp}:{body}".encode()
    signature = signature or "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return client.post(
        ENDPOINT,
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_SLACK_SIGNATURE=signature,
    )


def click(message, action_id, slack_user="URITA"):
    """The block_actions payload Slack sends when a user clicks a button of ``message``."""
    button = next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )
    return {
        "type": "block_actions",
        "user": {"id": slack_user},
        "trigger_id": "trigger-1",
        "container": {"type": "message", "channel_id": message["channel"], "message_ts": "1001.000100"},
        "actions": [{"action_id": action_id, "value": button["value"], "block_id": "lead"}],
    }


def posted_message(slack_api):
    [message] = slack_api.called("chat.postMessage")
    return {
        **message,
        "blocks": json.loads(message["blocks"]) if isinstance(message["blocks"], str) else message["blocks"],
    }


def blocks_text(blocks):
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks)


def test_a_new_mql_goes_to_its_owner_in_slack_with_accept_and_reject(slack_api, rita):
    lead = lead_in_stage(Stage.MQL, owner=rita)

    assert chat.deliver_chat_notices() == 1

    message = posted_message(slack_api)
    assert message["channel"] == "URITA"
    assert lead.name in message["text"]
    values = {
        element["action_id"]: element["value"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert values == {"accept": f"{lead.pk}:{lead.version}", "reject": f"{lead.pk}:{lead.version}"}
    assert SlackIdentity.objects.get(user=rita).slack_user_id == "URITA"
    notice = ChatNotice.objects.get(target="slack")
    assert notice.sent_at and notice.slack_channel == "DRITA"
    assert chat.deliver_chat_notices() == 0, "sent once"


def test_accepting_in_slack_accepts_stops_the_clock_records_slack_and_updates_the_message(slack_api, rita, client):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()

    response = slack_request(client, click(posted_message(slack_api), "accept"))

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.stage == Stage.SAL and lead.first_follow_up_at is not None
    accepted = LeadEvent.objects.get(lead=lead, kind=EventKind.ACCEPTED)
    assert accepted.actor == rita and accepted.payload == {"via": "slack"}
    [update] = slack_api.called("chat.update")
    assert update["channel"] == "DRITA"
    assert "Accepted by Rita Rep in Slack" in blocks_text(update["blocks"])
    assert '"accept"' not in blocks_text(update["blocks"]), "the buttons are gone"


def test_a_click_on_a_message_someone_else_answered_first_changes_nothing_and_says_who_acted(
    slack_api, rita, manager, client
):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()
    message = posted_message(slack_api)
    transitions.reject_lead(lead, by=manager, reason="no-budget")

    response = slack_request(client, click(message, "accept"))

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.stage == Stage.REJECTED
    assert not LeadEvent.objects.filter(lead=lead, kind=EventKind.ACCEPTED).exists()
    [note] = slack_api.called("chat.postEphemeral")
    assert note["user"] == "URITA" and "Someone else acted" in note["text"]
    [update] = slack_api.called("chat.update")
    assert "Rejected by Mona: No budget" in blocks_text(update["blocks"])


def test_reject_asks_the_reason_in_a_modal_and_its_submission_rejects(slack_api, rita, client):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()

    assert slack_request(client, click(posted_message(slack_api), "reject")).status_code == 200
    [opened] = slack_api.called("views.open")
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    options = [option["value"] for option in view["blocks"][1]["element"]["options"]]
    assert "no-budget" in options
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL, "nothing happens before the reason is chosen"

    submission = {
        "type": "view_submission",
        "user": {"id": "URITA"},
        "view": {
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "reason": {"reason": {"type": "static_select", "selected_option": {"value": "no-budget"}}},
                    "note": {"note": {"type": "plain_text_input", "value": "frozen until Q3"}},
                }
            },
        },
    }
    response = slack_request(client, submission)

    assert response.status_code == 200 and response.content == b""
    lead.refresh_from_db()
    assert lead.stage == Stage.REJECTED and lead.rejection_reason.code == "no-budget"
    rejected = LeadEvent.objects.get(lead=lead, kind=EventKind.REJECTED)
    assert rejected.note == "frozen until Q3" and rejected.payload["via"] == "slack"
    assert "Rejected by Rita Rep in Slack: No budget" in blocks_text(slack_api.called("chat.update")[0]["blocks"])


def test_a_modal_without_a_reason_answers_with_the_error_beside_the_field(slack_api, rita, client):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    submission = {
        "type": "view_submission",
        "user": {"id": "URITA"},
        "view": {
            "callback_id": "reject_lead",
            "private_metadata": json.dumps({"lead": lead.pk, "version": lead.version}),
            "state": {"values": {}},
        },
    }

    response = slack_request(client, submission)

    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {"reason": "A rejection reason is required."}}
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "not-the-signing-secret"},
        {"age": 6 * 60},
        {"signature": "v0=" + "0" * 64},
    ],
    ids=["wrong secret", "older than five minutes", "forged signature"],
)
def test_requests_not_signed_by_slack_within_five_minutes_are_refused(slack_api, rita, client, tamper):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()

    response = slack_request(client, click(posted_message(slack_api), "accept"), **tamper)

    assert response.status_code == 401
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_unsigned_or_malformed_requests_get_a_4xx(slack_api, client):
    assert (
        client.post(ENDPOINT, data="payload=%7B%7D", content_type="application/x-www-form-urlencoded").status_code
        == 401
    )
    response = client.post(
        ENDPOINT,
        data="payload=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP="soon",
        HTTP_X_SLACK_SIGNATURE="v0=abc",
    )
    assert response.status_code == 401
    assert slack_request(client, ["not", "an", "object"]).status_code == 400
    assert slack_request(client, {"type": "block_actions", "user": {"id": "URITA"}, "actions": []}).status_code == 400


def test_a_slack_user_who_is_no_funnel_user_is_refused(slack_api, rita, client):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()

    response = slack_request(client, click(posted_message(slack_api), "accept", slack_user="USTRANGER"))

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    [note] = slack_api.called("chat.postEphemeral")
    assert note["user"] == "USTRANGER" and "matches no Funnel user" in note["text"]
    assert not SlackIdentity.objects.filter(slack_user_id="USTRANGER").exists()


def test_a_funnel_user_who_may_not_act_on_the_lead_is_told_so(slack_api, rita, client):
    make_user("oscar", role="rep")
    slack_api.users["UOSCAR"] = "oscar@example.com"
    lead = lead_in_stage(Stage.MQL, owner=rita)
    chat.deliver_chat_notices()

    slack_request(client, click(posted_message(slack_api), "accept", slack_user="UOSCAR"))

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert "cannot see this lead" in slack_api.called("chat.postEphemeral")[0]["text"]


def test_breaches_go_to_the_teams_channel_in_one_message(slack_api, rita, manager):
    leads = [lead_in_stage(Stage.MQL, owner=rita) for _ in range(3)]
    ChatNotice.objects.update(sent_at=timezone.now())  # the new-MQL messages are not what this test counts
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    sla.flag_overdue_leads()

    assert chat.deliver_chat_notices() == 1

    message = posted_message(slack_api)
    assert message["channel"] == "CTEAM"
    assert message["text"].startswith("SLA breached")
    assert all(lead.name in message["text"] for lead in leads)


def test_sla_risk_is_noticed_once_when_a_quarter_of_the_window_is_left(slack_api, rita):
    lead = lead_in_stage(Stage.MQL, owner=rita)
    ChatNotice.objects.update(sent_at=timezone.now())
    window = lead.sla_due_at - lead.mql_at
    assert lead.sla_risk_at == lead.mql_at + window * 3 / 4

    assert sla.flag_sla_risks(now=lead.sla_risk_at - timedelta(seconds=1)) == []
    assert sla.flag_sla_risks(now=lead.sla_risk_at) == [lead.pk]
    assert sla.flag_sla_risks(now=lead.sla_risk_at + timedelta(minutes=1)) == []
    chat.deliver_chat_notices(now=lead.sla_risk_at)

    message = posted_message(slack_api)
    assert message["channel"] == "CTEAM" and message["text"].startswith("SLA at risk")


def test_teams_gets_the_notices_through_its_incoming_webhook(settings, team, rita):
    settings.SLACK_BOT_TOKEN = ""
    with Receiver() as teams:
        TeamChat.objects.create(team=team, teams_webhook_url=teams.url, slack_direct_messages=False)
        lead = lead_in_stage(Stage.MQL, owner=rita)

        assert chat.deliver_chat_notices() == 1

    [card] = [request.json() for request in teams.received]
    assert card["@type"] == "MessageCard" and card["title"] == "New MQL for you"
    assert lead.name in card["sections"][0]["activityTitle"]


def test_a_notice_the_owner_turned_off_is_not_sent(slack_api, rita):
    NotificationPreferences.objects.create(user=rita, new_mql_chat=False)
    lead_in_stage(Stage.MQL, owner=rita)

    assert chat.deliver_chat_notices() == 0
    assert slack_api.called("chat.postMessage") == []
    assert "turned these notices off" in ChatNotice.objects.get().last_error


def test_kinds_map_to_headlines():
    assert set(chat.HEADLINES) == set(NoticeKind)
