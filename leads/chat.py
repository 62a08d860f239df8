"""Chat notices: Slack (Block Kit with Accept and Reject) and Microsoft Teams (incoming webhook).

Notices are queued as ``ChatNotice`` rows in the transaction of their cause
(the history trigger for new MQLs and breaches, the risk sweep for risks).
``deliver_chat_notices`` claims them with a lease, asks the addressee's
preferences, and sends: a new MQL as a direct message to its owner, risks and
breaches to the team's channel, several waiting for one channel as one message.
A Slack message always shows its leads as they are now: an MQL still awaiting
an answer carries Accept and Reject buttons with the version it was shown at;
once someone acted, the line says who did what (``render_leads``), and
``refresh_messages`` re-renders every message of a lead after an action.

A direct message is written in its addressee's language (``language_of``); a
channel's message, read by a whole team, in the site's (LANGUAGE_CODE). Slack
shows each reader the times in their own zone (``<!date^…>``); Teams gets UTC.
"""

import json
import logging
import uuid
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from . import outbound, preferences
from .models import ChatNotice, EventKind, Lead, LeadEvent, NoticeKind, SlackIdentity, Stage
from .models.profiles import language_of
from .notifications import site_url

log = logging.getLogger(__name__)

HEADLINES = {
    NoticeKind.NEW_MQL: gettext_lazy("New MQL for you"),
    NoticeKind.SLA_RISK: gettext_lazy("SLA at risk: a quarter of the response window is left"),
    NoticeKind.SLA_BREACH: gettext_lazy("SLA breached: no answer within the response window"),
}

# How the latest event of a lead that is no longer awaiting an answer reads.
OUTCOMES = {
    EventKind.ACCEPTED: gettext_lazy("Accepted by {actor}{via}"),
    EventKind.REJECTED: gettext_lazy("Rejected by {actor}{via}: {reason}"),
    EventKind.ACTIVITY: gettext_lazy("Followed up by {actor}{via}"),
    EventKind.REASSIGNED: gettext_lazy("Reassigned to {owner} by {actor}{via}"),
    EventKind.QUALIFIED: gettext_lazy("Qualified by {actor}{via}"),
    EventKind.DISQUALIFIED: gettext_lazy("Disqualified by {actor}{via}: {reason}"),
    EventKind.RECYCLED: gettext_lazy("Recycled by {actor}{via}"),
}


class ChatError(Exception):
    """Slack or Teams refused or could not be reached."""


def slack():
    """The Slack Web API client (SLACK_API_URL, SLACK_BOT_TOKEN); raises nothing."""
    return WebClient(token=settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL, timeout=10)


def _call(method, **arguments):
    try:
        return getattr(slack(), method)(**arguments)
    except SlackApiError as exc:
        raise ChatError(f"Slack {method}: {exc.response.get('error', exc)}") from None
    except OSError as exc:
        raise ChatError(f"Slack {method}: {exc}") from None


def name_of(user):
    if user is None:
        return "Funnel"
    return user.get_full_name() or user.username


# --- who is who ------------------------------------------------------------------------------


def slack_id_of(user):
    """Return ``user``'s Slack user id, looking it up by e-mail the first time; None if Slack has no such address; raises ChatError."""
    identity = SlackIdentity.objects.filter(user=user).first()
    if identity:
        return identity.slack_user_id
    if not user.email:
        return None
    try:
        found = slack().users_lookupByEmail(email=user.email)
    except SlackApiError as exc:
        if exc.response.get("error") == "users_not_found":
            return None
        raise ChatError(f"Slack users.lookupByEmail: {exc.response.get('error')}") from None
    slack_user_id = found["user"]["id"]
    _link(user, slack_user_id, user.email)
    return slack_user_id


def user_for_slack_id(slack_user_id):
    """Return the active Funnel user of a Slack user (matched by e-mail the first time), or None; raises ChatError."""
    identity = SlackIdentity.objects.select_related("user").filter(slack_user_id=slack_user_id).first()
    if identity:
        return identity.user if identity.user.is_active else None
    try:
        info = slack().users_info(user=slack_user_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "user_not_found":
            return None
        raise ChatError(f"Slack users.info: {exc.response.get('error')}") from None
    email = (info["user"].get("profile") or {}).get("email", "")
    matches = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2]) if email else []
    if len(matches) != 1:  # no one, or an address two accounts share: no guessing
        return None
    _link(matches[0], slack_user_id, email)
    return matches[0]


def _link(user, slack_user_id, email):
    try:
        with transaction.atomic():
            SlackIdentity.objects.update_or_create(user=user, defaults={"slack_user_id": slack_user_id, "email": email})
    except IntegrityError:
        log.warning("Slack user %s is linked to another Funnel user; %s not linked", slack_user_id, user)


# --- what a message says ---------------------------------------------------------------------


def _with_outcome(leads):
    """The leads with their latest event (the outcome line of a lead no longer awaiting)."""
    latest = LeadEvent.objects.filter(lead=OuterRef("pk")).order_by("-id").values("pk")[:1]
    leads = list(leads.select_related("owner").annotate(latest_event_id=Subquery(latest)))
    events = LeadEvent.objects.select_related("actor", "owner", "reason").in_bulk(
        [lead.latest_event_id for lead in leads if lead.latest_event_id]
    )
    return [(lead, events.get(lead.latest_event_id)) for lead in leads]


def outcome_of(lead, event):
    if event is None or event.kind not in OUTCOMES:
        return gettext("Now %(stage)s") % {"stage": Stage(lead.stage).label}
    text = OUTCOMES[event.kind].format(
        actor=name_of(event.actor),
        owner=name_of(event.owner),
        reason=gettext(event.reason.label) if event.reason else "",
        via=gettext(" in Slack") if event.payload.get("via") == "slack" else "",
    )
    return f"{text} <!date^{int(event.at.timestamp())}^{{date_short_pretty}} {{time}}|{event.at:%Y-%m-%d %H:%M} UTC>"


def _lead_blocks(lead, event):
    url = site_url(lead.get_absolute_url())
    details = [lead.company] if lead.company else []
    details.append(
        gettext("owner %(name)s") % {"name": name_of(lead.owner)} if lead.owner_id else gettext("unassigned")
    )
    if lead.sla_due_at and lead.is_awaiting_response:
        stamp = int(lead.sla_due_at.timestamp())
        due = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{lead.sla_due_at:%Y-%m-%d %H:%M} UTC>"
        details.append(gettext("due %(time)s") % {"time": due})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*<{url}|{lead.name}>*  {' · '.join(details)}"}}]
    if lead.is_awaiting_response:
        value = f"{lead.pk}:{lead.version}"
        blocks.append(
            {
                "type": "actions",
                "block_id": f"lead:{lead.pk}",
                "elements": [
                    _button("accept", gettext("Accept"), value, "primary"),
                    _button("reject", gettext("Reject…"), value, "danger"),
                ],
            }
        )
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": outcome_of(lead, event)}]})
    return blocks


def _button(action_id, label, value, style):
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
        "style": style,
    }


def render_leads(kind, leads, *, more=0):
    """Return ``(text, blocks)`` of a Slack message about ``leads`` (a queryset) as they are now; raises nothing."""
    headline = str(HEADLINES[kind])
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": headline}}]
    shown = _with_outcome(leads)
    for lead, event in shown:
        blocks.extend(_lead_blocks(lead, event))
    if more:
        link = site_url(reverse("leads:breached" if kind == NoticeKind.SLA_BREACH else "leads:queue"))
        text = gettext("and %(more)s more: <%(link)s|open Funnel>") % {"more": more, "link": link}
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    text = f"{headline}: " + ", ".join(lead.name for lead, _event in shown)
    return text, blocks


def teams_card(kind, leads, *, more=0):
    """The MessageCard a Teams incoming webhook shows for ``leads``; raises nothing."""
    sections = []
    for lead, _event in _with_outcome(leads):
        facts = [{"name": gettext("Owner"), "value": name_of(lead.owner) if lead.owner_id else gettext("unassigned")}]
        if lead.sla_due_at:
            due = date_format(timezone.localtime(lead.sla_due_at, UTC), "SHORT_DATETIME_FORMAT")
            facts.append({"name": gettext("Due"), "value": f"{due} (UTC)"})
        sections.append(
            {
                "activityTitle": f"[{lead.name}]({site_url(lead.get_absolute_url())})",
                "activitySubtitle": lead.company,
                "facts": facts,
            }
        )
    if more:
        sections.append({"text": gettext("and %(more)s more") % {"more": more}})
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": str(HEADLINES[kind]),
        "title": str(HEADLINES[kind]),
        "themeColor": "B91C1C" if kind == NoticeKind.SLA_BREACH else "2563EB",
        "sections": sections,
    }


# --- sending ---------------------------------------------------------------------------------


def _claim(now, limit):
    lease = timedelta(seconds=settings.FUNNEL_OUTBOX_LEASE_SECONDS)
    token = uuid.uuid4().hex
    due = (
        ChatNotice.objects.filter(sent_at__isnull=True, attempts__lt=settings.FUNNEL_CHAT_MAX_ATTEMPTS)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
        .order_by("created_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("id", flat=True)[:limit]
    )
    with transaction.atomic():
        ChatNotice.objects.filter(pk__in=list(due)).update(claimed_at=now, claim_token=token)
    return list(
        ChatNotice.objects.filter(claim_token=token, claimed_at=now)
        .select_related("lead", "addressee", "addressee__notice_prefs", "team", "team__chat")
        .order_by("id")
    )


def _done(notices, **fields):
    ChatNotice.objects.filter(pk__in=[notice.pk for notice in notices], sent_at__isnull=True).update(
        claimed_at=None, claim_token="", **fields
    )


def _failed(notices, error):
    for notice in notices:
        ChatNotice.objects.filter(pk=notice.pk).update(
            attempts=notice.attempts + 1, last_error=error[:2000], claimed_at=None, claim_token=""
        )


def _groups(notices):
    """One message per direct message, and per team, target and kind otherwise (cut to the message size)."""
    groups = {}
    for notice in notices:
        if notice.target == ChatNotice.Target.SLACK and notice.kind == NoticeKind.NEW_MQL:
            key = (notice.target, notice.kind, notice.team_id, notice.addressee_id, notice.pk)
        else:
            key = (notice.target, notice.kind, notice.team_id)
        groups.setdefault(key, []).append(notice)
    size = settings.FUNNEL_CHAT_LEADS_PER_MESSAGE
    for group in groups.values():
        for start in range(0, len(group), size):
            yield group[start : start + size]


def _send_slack(group):
    first = group[0]
    if not settings.SLACK_BOT_TOKEN:
        raise _Skip("Slack is not set up (SLACK_BOT_TOKEN is empty).")
    if first.kind == NoticeKind.NEW_MQL:
        if first.lead.owner_id != first.addressee_id:
            raise _Skip("The lead has another owner now (they get a message of their own).")
        channel = slack_id_of(first.addressee) if first.addressee else None
        if channel is None:
            raise _Skip(f"No Slack account has the e-mail address of {first.addressee}.")
    else:
        channel = getattr(getattr(first.team, "chat", None), "slack_channel", "")
        if not channel:
            raise _Skip("The team has no Slack channel.")
    language = language_of(first.addressee) if first.kind == NoticeKind.NEW_MQL else settings.LANGUAGE_CODE
    with translation.override(language):
        text, blocks = render_leads(
            first.kind, Lead.objects.filter(pk__in=[n.lead_id for n in group]).order_by("sla_due_at", "id")
        )
    posted = _call("chat_postMessage", channel=channel, text=text, blocks=blocks, unfurl_links=False)
    return {"slack_channel": posted["channel"], "slack_ts": posted["ts"]}


def _send_teams(group):
    first = group[0]
    url = getattr(getattr(first.team, "chat", None), "teams_webhook_url", "")
    if not url:
        raise _Skip("The team has no Teams webhook.")
    leads = Lead.objects.filter(pk__in=[n.lead_id for n in group]).order_by("sla_due_at", "id")
    with translation.override(settings.LANGUAGE_CODE):  # a channel: the whole team reads it
        card = teams_card(first.kind, leads)
    answer = outbound.post(url, json.dumps(card).encode(), {"Content-Type": "application/json"})
    if not answer.ok:
        raise ChatError(answer.error or f"Teams answered HTTP {answer.status}: {answer.excerpt[:200]}")
    return {}


class _Skip(Exception):
    """This notice cannot be sent, now or later (nowhere to send it)."""


SENDERS = {ChatNotice.Target.SLACK: _send_slack, ChatNotice.Target.TEAMS: _send_teams}


def deliver_chat_notices(*, now=None, limit=200):
    """Send waiting chat notices (claimed with a lease) as their addressees' preferences allow; returns how many messages went out, raises nothing."""
    now = now or timezone.now()
    sendable = []
    for notice in _claim(now, limit):
        decision = preferences.decide(notice.addressee, notice.kind, preferences.CHAT, now)
        if decision.now:
            sendable.append(notice)
        elif decision.send:
            ChatNotice.objects.filter(pk=notice.pk).update(
                not_before=decision.not_before, claimed_at=None, claim_token=""
            )
        else:
            _done([notice], sent_at=timezone.now(), last_error="Not sent: the addressee turned these notices off.")
    sent = 0
    for group in _groups(sendable):
        try:
            where = SENDERS[group[0].target](group)
        except _Skip as exc:
            _done(group, sent_at=timezone.now(), last_error=f"Not sent: {exc}")
            continue
        except ChatError as exc:
            log.warning("chat notices %s: %s", [n.pk for n in group], exc)
            _failed(group, str(exc))
            continue
        _done(group, sent_at=timezone.now(), last_error="", **where)
        sent += 1
    return sent


def refresh_messages(lead):
    """Re-render every Slack message that shows ``lead`` (after someone acted on it); returns how many, raises ChatError."""
    messages = (
        ChatNotice.objects.filter(lead=lead, target=ChatNotice.Target.SLACK)
        .exclude(slack_ts="")
        .values_list("slack_channel", "slack_ts", "kind")
        .distinct()
    )
    for channel, ts, kind in messages:
        shown = ChatNotice.objects.filter(slack_channel=channel, slack_ts=ts)
        language = settings.LANGUAGE_CODE
        if kind == NoticeKind.NEW_MQL:  # a direct message: its addressee's language
            notice = shown.select_related("addressee__profile").first()
            language = language_of(notice.addressee if notice else None)
        with translation.override(language):
            text, blocks = render_leads(
                kind, Lead.objects.filter(pk__in=shown.values("lead_id")).order_by("sla_due_at", "id")
            )
        _call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)
    return len(messages)
