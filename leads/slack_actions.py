"""What a click in Slack does: Accept, Reject (a modal asks the reason) on the lead a message showed.

The Slack user is mapped to a Funnel user by e-mail (``chat.user_for_slack_id``);
the verbs of ``leads.transitions`` run with the version the message showed, so
a lead that changed since is refused (``ConcurrentUpdate``) and the message is
re-rendered to show who acted. Every history row written records
``{"via": "slack"}``. Each handler returns the HTTP answer Slack expects (None:
an empty 200).

What the clicking user reads (notes, the modal, its errors) is in their language
(``language_of``), the site's when Slack names no Funnel user.
"""

import json
import logging

from django.utils import translation
from django.utils.translation import gettext

from . import access, chat, history, transitions
from .models import Lead, RejectionReason
from .models.profiles import language_of

log = logging.getLogger(__name__)

REJECT_MODAL = "reject_lead"


class BadPayload(ValueError):
    pass


def _lead_and_version(value):
    try:
        lead_id, version = (int(part) for part in str(value).split(":"))
    except ValueError:
        raise BadPayload("The button's value is not a lead and version.") from None
    return lead_id, version


def _tell(payload, text):
    """An ephemeral note to the clicking user, in the channel of the message."""
    channel = (payload.get("container") or {}).get("channel_id") or (payload.get("channel") or {}).get("id")
    if channel:
        chat._call("chat_postEphemeral", channel=channel, user=payload["user"]["id"], text=text)


def _refresh(lead_id):
    try:
        chat.refresh_messages(Lead(pk=lead_id))
    except chat.ChatError as exc:
        log.warning("Slack messages of lead %s not updated: %s", lead_id, exc)


def handle(payload):
    """Act on one interaction payload of Slack (block_actions, view_submission); returns the JSON answer or None; raises BadPayload, chat.ChatError."""
    kind = payload.get("type")
    if kind == "block_actions":
        return _button(payload)
    if kind == "view_submission" and (payload.get("view") or {}).get("callback_id") == REJECT_MODAL:
        return _submit_reject(payload)
    return None


def _user(payload):
    slack_user = (payload.get("user") or {}).get("id")
    if not slack_user:
        raise BadPayload("The payload names no Slack user.")
    return chat.user_for_slack_id(slack_user)


def _button(payload):
    actions = payload.get("actions") or []
    if not actions:
        raise BadPayload("The payload has no action.")
    action = actions[0]
    lead_id, version = _lead_and_version(action.get("value"))
    user = _user(payload)
    with translation.override(language_of(user)):
        return _button_for(payload, action, user, lead_id, version)


def _button_for(payload, action, user, lead_id, version):
    if user is None:
        _tell(
            payload,
            gettext("Your Slack account matches no Funnel user by e-mail address, so Funnel cannot act for you."),
        )
        return None
    lead = access.visible_leads(user).filter(pk=lead_id).first()
    if lead is None:
        _tell(payload, gettext("You cannot see this lead in Funnel."))
        return None
    if action.get("action_id") == "accept":
        _act(payload, lambda: transitions.accept_lead(lead, by=user, version=version), lead_id, "Accepted")
    elif action.get("action_id") == "reject":
        _open_reject_modal(payload, lead, version)
    return None


def _act(payload, verb, lead_id, done):
    try:
        with history.via("slack"):
            verb()
    except transitions.ConcurrentUpdate:
        _tell(payload, gettext("Someone else acted on this lead first; the message now shows what happened."))
    except transitions.LeadError as exc:
        _tell(payload, str(exc.message))
    _refresh(lead_id)


def _open_reject_modal(payload, lead, version):
    reasons = [
        {"text": {"type": "plain_text", "text": gettext(reason.label)[:75]}, "value": reason.code}
        for reason in RejectionReason.objects.filter(is_active=True)
    ]
    view = {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": json.dumps({"lead": lead.pk, "version": version}),
        "title": {"type": "plain_text", "text": gettext("Reject MQL")},
        "submit": {"type": "plain_text", "text": gettext("Reject")},
        "close": {"type": "plain_text", "text": gettext("Cancel")},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{lead.name}*  {lead.company}"}},
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": gettext("Reason")},
                "element": {"type": "static_select", "action_id": "reason", "options": reasons[:100]},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": gettext("Note")},
                "element": {"type": "plain_text_input", "action_id": "note", "multiline": True, "max_length": 2000},
            },
        ],
    }
    chat._call("views_open", trigger_id=payload.get("trigger_id", ""), view=view)


def _submit_reject(payload):
    try:
        metadata = json.loads(payload["view"].get("private_metadata") or "")
        lead_id, version = int(metadata["lead"]), int(metadata["version"])
    except (ValueError, KeyError, TypeError):
        raise BadPayload("The modal does not say which lead it is for.") from None
    values = payload["view"].get("state", {}).get("values", {})
    reason = ((values.get("reason") or {}).get("reason") or {}).get("selected_option") or {}
    note = ((values.get("note") or {}).get("note") or {}).get("value") or ""
    user = _user(payload)
    with translation.override(language_of(user)):
        return _reject_for(user, lead_id, version, reason, note)


def _reject_for(user, lead_id, version, reason, note):
    if user is None:
        return _errors(gettext("Your Slack account matches no Funnel user by e-mail address."))
    lead = access.visible_leads(user).filter(pk=lead_id).first()
    if lead is None:
        return _errors(gettext("You cannot see this lead in Funnel."))
    try:
        with history.via("slack"):
            transitions.reject_lead(lead, by=user, reason=reason.get("value"), note=note, version=version)
    except transitions.ConcurrentUpdate:
        _refresh(lead_id)
        return _errors(gettext("Someone else acted on this lead first; the message now shows what happened."))
    except transitions.LeadError as exc:
        return _errors(str(exc.message), block="note" if exc.field == "note" else "reason")
    _refresh(lead_id)
    return None


def _errors(message, block="reason"):
    return {"response_action": "errors", "errors": {block: message}}
