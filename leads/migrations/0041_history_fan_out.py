"""Every history row fans out to webhooks and chat in the statement that wrote it.

A statement-level trigger sees the statement's new rows as a table and queues,
set-wise: one webhook delivery per row and active subscription that asked for
its type, and one chat notice per new MQL (for its owner) or SLA breach and per
chat the team has set up. Every writer gets this in its own transaction: the
verbs, the import's COPY, the rescore, and the SLA sweep's single SQL statement,
none of which knows about webhooks or chat. With no subscription and no team
chat the trigger does two index-only existence checks per statement
(bench/README.md, "Webhooks", for the cost on the sweep and the import).
"""

from django.db import migrations

FAN_OUT = """
CREATE FUNCTION leads_leadevent_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM leads_webhooksubscription WHERE is_active) THEN
        INSERT INTO leads_webhookdelivery (subscription_id, event_id, queued_at, next_attempt_at, attempts,
                                           claim_token, last_error)
        SELECT subscription.id, new_event.id, now(), now(), 0, '', ''
          FROM new_events new_event
          JOIN leads_webhooksubscription subscription
            ON subscription.is_active AND 'lead.' || new_event.kind = ANY (subscription.event_types);
    END IF;
    IF EXISTS (SELECT 1 FROM leads_teamchat) THEN
        INSERT INTO leads_chatnotice (kind, target, lead_id, team_id, addressee_id, event_id, dedupe_key, created_at,
                                      attempts, claim_token, last_error, slack_channel, slack_ts)
        SELECT notice.kind, target.name, notice.lead_id, lead.team_id, notice.owner_id, notice.id,
               notice.kind || ':' || target.name || ':' || notice.id, now(), 0, '', '', '', ''
          FROM (SELECT new_event.id, new_event.lead_id, new_event.owner_id,
                       CASE WHEN new_event.kind = 'sla_breached' THEN 'sla_breach' ELSE 'new_mql' END AS kind
                  FROM new_events new_event
                 WHERE new_event.kind = 'sla_breached'
                    OR (new_event.kind IN ('promoted', 'reassigned') AND new_event.to_stage = 'mql'
                        AND new_event.owner_id IS NOT NULL)) notice
          JOIN leads_lead lead ON lead.id = notice.lead_id
          JOIN leads_teamchat chat ON chat.team_id = lead.team_id
         CROSS JOIN LATERAL (VALUES
               -- A new MQL goes to its owner directly, risks and breaches to the team's channel.
               ('slack', CASE WHEN notice.kind = 'new_mql' THEN chat.slack_direct_messages
                              ELSE chat.slack_channel <> '' END),
               ('teams', chat.teams_webhook_url <> '')) AS target(name, wanted)
         WHERE target.wanted;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_leadevent_fan_out AFTER INSERT ON leads_leadevent
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION leads_leadevent_fan_out();
"""

NO_FAN_OUT = """
DROP TRIGGER IF EXISTS leads_leadevent_fan_out ON leads_leadevent;
DROP FUNCTION IF EXISTS leads_leadevent_fan_out();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0040_events_webhooks_notices"),
    ]

    operations = [migrations.RunSQL(FAN_OUT, NO_FAN_OUT)]
