"""The duplicate check at intake (``leads.duplicates.find``) among 1,000,000 leads, next to a hand-written statement.

The data: 1,000,000 leads at 50,000 accounts (20 each), every lead with an
e-mail key, a phone in E.164 and a name from 120 first/last pairs, so at each
account several names are close. Generated with one ``INSERT ... SELECT
generate_series`` with the trigram (GIN) indexes dropped and built again after,
then ``VACUUM ANALYZE``; kept (table ``bench_duplicate_check``) and reused.

200 candidates, each matching an earlier lead by e-mail key, another by phone
and the leads of one account by name, are checked:

- ``find``: ``duplicates.find([lead])`` once per candidate, as the API and the
  lead form do at intake;
- ``sql``: a hand-written statement per candidate with the keys as scalars
  (three index probes, UNION);
- ``find_batch``: ``duplicates.find`` of all 200 at once, as an import batch does.

All three must find the same pairs. Target: at most 5 ms per lead.
"""

import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from types import SimpleNamespace

from django.db import connection, transaction

from leads import duplicates

from . import harness
from .database import BenchError, truncate

LEADS = 1_000_000
ACCOUNTS = 50_000
CANDIDATES = 200
TARGET_MS_PER_LEAD = 5.0
SPEC = {"version": 1, "leads": LEADS, "accounts": ACCOUNTS}
FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Laura"]
LAST = ["Schmidt", "Okafor", "Novak", "Lindqvist", "Garcia", "Tanaka", "Muller", "Rossi", "Dubois", "Kowalski"]

_LEADS_SQL = """
INSERT INTO leads_lead (id, name, email, phone, company, job_title, company_size, country, source, campaign,
                        priority, stage, score, version, mql_episode, created_at, updated_at,
                        account_id, email_normalised, phone_e164)
SELECT n, (%(first)s::text[])[1 + n %% 12] || ' ' || (%(last)s::text[])[1 + (n / 12) %% 10],
       'person' || n || '@company' || (n %% %(accounts)s) || '.example', '+49 30 ' || (1000000 + n),
       'Company ' || (n %% %(accounts)s), '', '', 'DE', 'import', '', 'normal', 'lead', 0, 0, 0, now(), now(),
       1 + n %% %(accounts)s, 'person' || n || '@company' || (n %% %(accounts)s) || '.example',
       '+4930' || (1000000 + n)
  FROM generate_series(1, %(leads)s) AS n
"""

_SQL_CHECK = """
SELECT id FROM leads_lead WHERE email_normalised = %(email)s AND email_normalised <> '' AND id < %(id)s
UNION
SELECT id FROM leads_lead WHERE phone_e164 = %(phone)s AND phone_e164 <> '' AND id < %(id)s
UNION
SELECT id FROM leads_lead WHERE account_id = %(account)s AND id < %(id)s AND similarity(name, %(name)s) >= 0.5
"""


def _built():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_duplicate_check (spec text NOT NULL)")
        cursor.execute("SELECT spec FROM bench_duplicate_check")
        row = cursor.fetchone()
        if row and json.loads(row[0]) == SPEC:
            return True
        cursor.execute("SELECT EXISTS (SELECT 1 FROM leads_lead)")
        if cursor.fetchone()[0] and not row:
            raise BenchError("The database holds leads this benchmark did not write; use a database of its own.")
    return False


def build():
    print(f"Generating {LEADS:,} leads at {ACCOUNTS:,} accounts ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        truncate(cursor, "leads_lead", "leads_account")
        cursor.execute(
            "INSERT INTO leads_account (id, name, domain, company_key, created_at)"
            " SELECT n, 'Company ' || n, 'company' || n || '.example', 'company ' || n, now()"
            " FROM generate_series(1, %s) AS n",
            [ACCOUNTS],
        )
        # The GIN indexes are built once after the load, much faster than row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads_lead' AND indexdef LIKE '%% gin %%'"
        )
        gin = cursor.fetchall()
        for name, _definition in gin:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(_LEADS_SQL, {"first": FIRST, "last": LAST, "accounts": ACCOUNTS - 1, "leads": LEADS})
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks, before CREATE INDEX
        for _name, definition in gin:
            cursor.execute(definition)
        cursor.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s)", [LEADS])
        cursor.execute("DELETE FROM bench_duplicate_check")
        cursor.execute("INSERT INTO bench_duplicate_check VALUES (%s)", [json.dumps(SPEC)])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads_lead")
        cursor.execute("VACUUM ANALYZE leads_account")
    print(f"  built in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def candidates():
    """Leads about to be inserted: each with the e-mail key of one earlier lead, the phone of another, the account and name of a third."""
    result = []
    for i in range(CANDIDATES):
        n = 1 + i * (LEADS // CANDIDATES)
        result.append(
            SimpleNamespace(
                pk=LEADS + 1 + i,
                email_normalised=f"person{n}@company{n % (ACCOUNTS - 1)}.example",
                phone_e164=f"+4930{1000000 + n + 7}",
                account_id=1 + (n + 3) % (ACCOUNTS - 1),
                name=f"{FIRST[(n + 3) % 12]} {LAST[((n + 3) // 12) % 10]}",
            )
        )
    return result


def run(options):
    if options.rebuild or not _built():
        build()
    leads = candidates()
    found = {}

    def run_find():
        found["find"] = {}
        for lead in leads:
            found["find"].update(duplicates.find([lead]))

    def run_sql():
        found["sql"] = {}
        with connection.cursor() as cursor:
            for lead in leads:
                cursor.execute(
                    _SQL_CHECK,
                    {
                        "id": lead.pk,
                        "email": lead.email_normalised,
                        "phone": lead.phone_e164,
                        "account": lead.account_id,
                        "name": lead.name,
                    },
                )
                ids = sorted(row[0] for row in cursor.fetchall())
                if ids:
                    found["sql"][lead.pk] = ids

    def run_batch():
        found["find_batch"] = duplicates.find(leads)

    def digest(name):
        return lambda: hashlib.md5(json.dumps(sorted(found[name].items())).encode()).hexdigest()

    contenders = [
        harness.Contender("find", "duplicates.find, one lead at a time", run_find, digest("find")),
        harness.Contender("sql", "hand-written statement, one lead at a time", run_sql, digest("sql")),
        harness.Contender("find_batch", "duplicates.find of all 200 at once", run_batch, digest("find_batch")),
    ]
    load_before = harness.load_average()
    timings, outcomes = harness.measure(contenders, repeat=options.repeat, prepare=lambda: None)
    load_after = harness.load_average()
    if len(set(outcomes.values())) != 1:
        raise BenchError(f"The contenders found different duplicates: {outcomes}")
    stats = {name: harness.summary(values) for name, values in timings.items()}
    marks = sum(len(ids) for ids in found["find"].values())
    rows = []
    for contender in contenders:
        per_lead_ms = stats[contender.name]["median_s"] / CANDIDATES * 1000
        stats[contender.name]["ms_per_lead"] = round(per_lead_ms, 3)
        verdict = "PASS" if per_lead_ms <= TARGET_MS_PER_LEAD else "FAIL"
        rows.append(
            [contender.name, f"{per_lead_ms:.2f} ms", f"{stats[contender.name]['median_db_cpu_s'] or 0:.3f} s", verdict]
        )
    print(
        f"\nDuplicate check among {LEADS:,} leads, {CANDIDATES} candidates ({marks} earlier leads found),"
        f" load {load_before} -> {load_after}; target <= {TARGET_MS_PER_LEAD} ms per lead"
    )
    harness.print_table(["contender", "per lead", "db cpu (200)", "target"], rows)
    results = {
        "benchmark": "duplicate_check",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": SPEC,
        "candidates": CANDIDATES,
        "marks_found": marks,
        "load": [load_before, load_after],
        "server": harness.server_facts(),
        "stats": stats,
    }
    print(f"  results written to {harness.write_json('duplicate_check', results)}")
    return results
