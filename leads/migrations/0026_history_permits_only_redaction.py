"""The history's one permitted change: redacting an erased person's free text.

Until now PostgreSQL refused every UPDATE of a LeadEvent row (migration 0002).
Erasure (GDPR Art. 17, ``transitions.erase_lead``) must blank what the history
holds about a person as free text, without touching a single funnel fact. So an
UPDATE is now allowed only when

- the row's lead has its ``erased`` event (recorded first, in the same transaction),
- every column but ``note`` and ``payload`` stays as it was, and
- ``note`` and ``payload`` become exactly their redacted form, as the functions
  below compute it from the old values.

The redacted form is defined here once: ``history.redact`` writes with the same
functions the guard checks against. A note becomes ``[erased]`` (an empty note stays
empty); in a payload every value of a personal field (name, e-mail, phone, company,
job title), at the top level or in the ``fields`` of an ``updated`` event
(``[before, after]``), becomes ``[erased]`` unless it was empty. DELETE and TRUNCATE
stay refused by ``leads_leadevent_append_only()``.

The field list must match ``leads.privacy.PERSONAL_FIELDS`` (a test checks it).
"""

from django.db import migrations

PERSONAL = "ARRAY['name', 'email', 'phone', 'company', 'job_title']"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION leads_redacted_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL OR value = '' THEN value ELSE '[erased]' END
$$;

CREATE OR REPLACE FUNCTION leads_redacted_value(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL OR value IN ('null'::jsonb, '""'::jsonb) THEN value
                WHEN jsonb_typeof(value) = 'array' THEN (
                    SELECT coalesce(jsonb_agg(leads_redacted_value(item.value) ORDER BY item.n), '[]'::jsonb)
                      FROM jsonb_array_elements(value) WITH ORDINALITY AS item(value, n))
                ELSE '"[erased]"'::jsonb END
$$;

CREATE OR REPLACE FUNCTION leads_redacted_fields(fields jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(fields) <> 'object' THEN fields ELSE (
        SELECT coalesce(jsonb_object_agg(
                   field.key,
                   CASE WHEN field.key = ANY ({PERSONAL}) THEN leads_redacted_value(field.value) ELSE field.value END
               ), '{{}}'::jsonb)
          FROM jsonb_each(fields) AS field) END
$$;

CREATE OR REPLACE FUNCTION leads_redacted_payload(payload jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN payload IS NULL OR jsonb_typeof(payload) <> 'object' THEN payload ELSE (
        SELECT coalesce(jsonb_object_agg(
                   entry.key,
                   CASE WHEN entry.key = ANY ({PERSONAL}) THEN leads_redacted_value(entry.value)
                        WHEN entry.key = 'fields' THEN leads_redacted_fields(entry.value)
                        ELSE entry.value END
               ), '{{}}'::jsonb)
          FROM jsonb_each(payload) AS entry) END
$$;

CREATE OR REPLACE FUNCTION leads_leadevent_only_redaction() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM leads_leadevent WHERE lead_id = OLD.lead_id AND kind = 'erased') THEN
        RAISE EXCEPTION 'Lead history is append-only: UPDATE on leads_leadevent is not allowed'
            USING ERRCODE = 'raise_exception',
                  HINT = 'Only the redaction of an erased person''s notes is permitted, after the erased event.';
    END IF;
    IF (to_jsonb(NEW) - 'note' - 'payload') IS DISTINCT FROM (to_jsonb(OLD) - 'note' - 'payload') THEN
        RAISE EXCEPTION 'Lead history is append-only: an erasure may redact note and payload, nothing else'
            USING ERRCODE = 'raise_exception';
    END IF;
    IF NEW.note IS DISTINCT FROM leads_redacted_text(OLD.note)
       OR NEW.payload IS DISTINCT FROM leads_redacted_payload(OLD.payload) THEN
        RAISE EXCEPTION 'Lead history is append-only: note and payload may only become their redacted form'
            USING ERRCODE = 'raise_exception';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS leads_leadevent_no_update ON leads_leadevent;
CREATE TRIGGER leads_leadevent_only_redaction BEFORE UPDATE ON leads_leadevent
    FOR EACH ROW EXECUTE FUNCTION leads_leadevent_only_redaction();
"""

REVERSE = """
DROP TRIGGER IF EXISTS leads_leadevent_only_redaction ON leads_leadevent;
CREATE TRIGGER leads_leadevent_no_update BEFORE UPDATE ON leads_leadevent
    FOR EACH ROW EXECUTE FUNCTION leads_leadevent_append_only();
DROP FUNCTION IF EXISTS leads_leadevent_only_redaction();
DROP FUNCTION IF EXISTS leads_redacted_payload(jsonb);
DROP FUNCTION IF EXISTS leads_redacted_fields(jsonb);
DROP FUNCTION IF EXISTS leads_redacted_value(jsonb);
DROP FUNCTION IF EXISTS leads_redacted_text(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0025_erasure_and_opt_out"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, REVERSE)]
