import csv
import io
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from leads import history, imports, transitions
from leads.imports import cleaning, reading
from leads.management.commands.import_leads import Command as ImportLeadsCommand
from leads.models import (
    EventKind,
    ImportJob,
    ImportRowError,
    ImportRowFate,
    Lead,
    LeadEvent,
    LeadRuleScore,
    ScoringConfig,
    ScoringRule,
    Stage,
)

from ..factories import lead_in_stage, make_lead, make_user

FIXTURES = Path(__file__).parent / "fixtures_csv"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(content, name="leads.csv"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return SimpleUploadedFile(name, content, content_type="text/csv")


def import_csv(content, *, by=None, mapping=None, batch_size=imports.BATCH_SIZE):
    job = imports.start_import(upload(content), by=by, mapping=mapping, queue=False)
    return imports.run_import(job.pk, batch_size=batch_size)


def errors(job):
    return [(e.line, e.reason) for e in ImportRowError.objects.filter(job=job).order_by("line")]


def emails():
    return sorted(Lead.objects.values_list("email", flat=True))


# Good rows in, bad rows reported


def test_malformed_file_imports_the_good_rows_and_reports_each_bad_one(marketer):
    job = import_csv((FIXTURES / "malformed.csv").read_bytes(), by=marketer)

    assert job.status == ImportJob.Status.DONE
    assert emails() == ["ada@analytical.example", "fay@fine.example", "juergen@gruess.example"]
    assert errors(job) == [
        (3, "'bob@@broken.example' is not a valid e-mail address"),
        (4, "expected 8 columns, got 4"),
        (5, "duplicate of line 2 (same e-mail address)"),
        (6, "not valid UTF-8 text (save the file as CSV UTF-8)"),
        (9, "expected 8 columns, got 9"),
        (10, "company size must be a number of employees or a range such as 51-200, 1,001-5,000 or 10k+, not 'many'"),
    ]
    assert (job.rows_seen, job.created_count, job.updated_count, job.failed_count) == (9, 3, 0, 6)
    assert job.percent == 100
    ada = Lead.objects.get(email="ada@analytical.example")
    assert (ada.name, ada.company, ada.job_title, ada.company_size, ada.country, ada.priority) == (
        "Ada Lovelace",
        "Analytical Engines",
        "CEO",
        "120",
        "DE",
        "high",
    )
    fay = Lead.objects.get(email="fay@fine.example")
    assert (fay.company, fay.company_size, fay.company_size_low, fay.company_size_high, fay.priority) == (
        "Fine, Inc.",
        "1,200",
        1200,
        1200,
        "low",
    )
    assert Lead.objects.get(email="juergen@gruess.example").name == "Jürgen Grüß"


def test_bad_row_keeps_its_text_for_the_report(marketer):
    job = import_csv("name,email\nAda,ada@example.com\nBob,not-an-address\n", by=marketer)

    report = "".join(imports.error_report_csv(job))

    assert list(csv.reader(io.StringIO(report))) == [
        ["line", "reason", "row"],
        ["3", "'not-an-address' is not a valid e-mail address", "Bob,not-an-address"],
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("Ada,,DE,normal", "e-mail address is missing"),
        ("Ada,ada@example.com,Germany,normal", "country must be a two-letter ISO code such as DE, not 'Germany'"),
        ("Ada,ada@example.com,DE,urgent", "priority must be low, normal or high, not 'urgent'"),
        (f"{'A' * 201},ada@example.com,DE,", "name is longer than 200 characters"),
        (f"Ada,{'a' * 250}@example.com,DE,", "e-mail address is longer than 254 characters"),
        (",ada@example.com,DE,", "name is missing (a new lead needs one)"),
        ("Ada,ada@example.com,DE,\x00", "contains a NUL character"),
    ],
)
def test_each_invalid_field_is_reported(marketer, row, reason):
    job = import_csv(f"name,email,country,priority\n{row}\n", by=marketer)

    assert errors(job) == [(2, reason)]
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "Ada.Lovelace+crm@sub.example.co.uk",
        "ada@localhost",
        "ada@[127.0.0.1]",
        "ada@[::1]",
        "ada@müller.example",
        '"ada lovelace"@example.com',
        "ada@example",
        "ada@-example.com",
        "ada@example..com",
        "a da@example.com",
        "ada@@example.com",
        "üser@example.com",
        "ada@" + "x" * 64 + ".com",
    ],
)
def test_email_check_agrees_with_djangos_validator(address):
    from django.core.validators import validate_email as djangos

    def verdict(validate):
        try:
            validate(address)
        except ValidationError:
            return "invalid"
        return "valid"

    assert verdict(imports.validate_email) == verdict(djangos)


def test_a_row_with_several_problems_is_reported_once_with_all_of_them(marketer):
    job = import_csv("name,email,country\nAda,ada@,Germany\n", by=marketer)

    assert errors(job) == [
        (2, "'ada@' is not a valid e-mail address; country must be a two-letter ISO code such as DE, not 'Germany'")
    ]


def test_unclosed_quote_is_reported_with_the_lines_it_swallowed(marketer):
    job = import_csv('name,email\n"Ada,ada@example.com\nBob,bob@example.com\n', by=marketer)

    assert errors(job) == [(2, "expected 2 columns, got 1; a quote that is never closed may have joined lines 2-3")]


def test_quoted_field_over_two_lines_is_one_row_and_line_numbers_follow_the_file(marketer):
    job = import_csv('name,email,company\nAda,ada@example.com,"Analytical\nEngines"\nBob,bad,X\n', by=marketer)

    assert Lead.objects.get().company == "Analytical\nEngines"
    assert errors(job) == [(4, "'bad' is not a valid e-mail address")]


def test_blank_lines_are_skipped_not_reported(marketer):
    job = import_csv("name,email\n\nAda,ada@example.com\n,\n  ,  \n", by=marketer)

    assert (job.rows_seen, job.created_count, job.failed_count) == (1, 1, 0)


def test_line_longer_than_the_limit_is_reported_and_skipped(marketer, monkeypatch):
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 64)

    job = import_csv(f"name,email\nAda,ada@example.com\nBob,{'b' * 100}@example.com\nCy,cy@example.com\n", by=marketer)

    assert errors(job) == [(3, "a line is longer than 64 bytes")]
    assert emails() == ["ada@example.com", "cy@example.com"]


def test_trailing_empty_cells_are_tolerated(marketer):
    import_csv("name,email\nAda,ada@example.com,,\n", by=marketer)

    assert emails() == ["ada@example.com"]


# De-duplication and updates


def test_duplicate_in_the_file_is_reported_whatever_its_case(marketer):
    job = import_csv("name,email\nAda,ada@example.com\nAda again,ADA@Example.COM\n", by=marketer)

    assert errors(job) == [(3, "duplicate of line 2 (same e-mail address)")]
    assert Lead.objects.get().name == "Ada"


def test_email_in_another_case_updates_the_existing_lead_but_not_its_stage_or_owner(marketer, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, email="Ada@Example.com", phone="+49 1", company="Old")
    events_before = LeadEvent.objects.filter(lead=lead).count()

    job = import_csv("name,email,company,phone,country\n,ADA@EXAMPLE.COM,New Co,,AT\n", by=marketer)

    assert (job.created_count, job.updated_count, job.failed_count) == (0, 1, 0)
    updated = Lead.objects.get(pk=lead.pk)
    assert (updated.email, updated.company, updated.country) == ("Ada@Example.com", "New Co", "AT")
    assert (updated.name, updated.phone) == (lead.name, "+49 1")  # empty cells change nothing
    assert (updated.stage, updated.owner_id, updated.team_id) == (Stage.MQL, rep.pk, team.pk)
    assert updated.version == lead.version + 1
    # One event says what the import changed; no stage move.
    assert LeadEvent.objects.filter(lead=lead).count() == events_before + 1
    assert LeadEvent.objects.filter(lead=lead).last().kind == "updated"
    assert Lead.objects.count() == 1


def test_row_that_changes_nothing_counts_as_seen_only(marketer):
    make_lead(name="Ada", email="ada@example.com", company="Analytical")

    job = import_csv("name,email,company\nAda,ada@example.com,Analytical\n", by=marketer)

    assert (job.rows_seen, job.created_count, job.updated_count, job.failed_count) == (1, 0, 0, 0)


def test_reimporting_the_same_file_creates_nothing_new(marketer):
    content = (FIXTURES / "malformed.csv").read_bytes()
    import_csv(content, by=marketer)

    again = import_csv(content, by=marketer)

    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 6)
    assert Lead.objects.count() == 3


# Header, mapping, encodings


def test_header_aliases_are_mapped():
    header = ["Full Name", "Email Address", "Title", "Employees", "Organisation", "Lead Source", "Notes"]

    assert imports.suggest_mapping(header) == {
        "Full Name": "name",
        "Email Address": "email",
        "Title": "job_title",
        "Employees": "company_size",
        "Organisation": "company",
        "Lead Source": "source",
    }


def test_first_and_last_name_make_the_name_only_without_a_name_column():
    assert imports.suggest_mapping(["First name", "Last name", "E-mail"]) == {
        "First name": "first_name",
        "Last name": "last_name",
        "E-mail": "email",
    }
    assert imports.suggest_mapping(["Name", "First name", "E-mail"]) == {"Name": "name", "E-mail": "email"}


def test_explicit_mapping_is_used_and_stored(marketer):
    job = import_csv(
        "Who,Contact,Firm,Comment\nAda,ada@example.com,Analytical,ignore me\n",
        by=marketer,
        mapping={"Who": "name", "Contact": "email", "Firm": "company", "Comment": ""},
    )

    assert job.mapping == {"Who": "name", "Contact": "email", "Firm": "company"}
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.company) == ("Ada", "ada@example.com", "Analytical")


def test_read_header_reads_the_columns_and_rewinds():
    file = upload("\ufeffName;E-Mail\nAda;ada@example.com\n")

    assert imports.read_header(file) == ["Name", "E-Mail"]
    assert file.read(3) == b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffname,email\nAda,ada@example.com\n",
        "name;email\r\nAda;ada@example.com\r\n",
        "sep=;\nname;email\nAda;ada@example.com\n",
        "name\temail\nAda\tada@example.com\n",
    ],
    ids=["bom", "semicolon-crlf", "excel-sep-line", "tab"],
)
def test_utf8_bom_and_common_separators_are_read(marketer, content):
    job = import_csv(content, by=marketer)

    assert (job.created_count, job.failed_count) == (1, 0)
    assert Lead.objects.get().name == "Ada"


def test_line_numbers_count_an_excel_separator_line(marketer):
    job = import_csv("sep=,\nname,email\nAda,bad\n", by=marketer)

    assert errors(job) == [(3, "'bad' is not a valid e-mail address")]


# Refused files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b",,\nAda,ada@example.com\n", "The first line is empty"),
        (b"ada@example.com,Ada\n", "The first line looks like data, not a header"),
        (
            b"name,company\nAda,Analytical\n",
            "No column holds the e-mail address (the file's columns: 'name', 'company')",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00", "This is an Excel workbook or another zip archive, not a CSV file."),
        (b"name,\xe9mail\nAda,ada@example.com\n", "The header row is not UTF-8 text."),
        (b"name,email\x00\n", "This is not a CSV text file"),
        (b"\xff\xfen\x00a\x00m\x00e\x00", "The file is UTF-16 text."),
        (b"name,email\rAda,ada@example.com\r", "The lines of this file end in CR only"),
    ],
    ids=["empty", "blank", "no-header", "data-as-header", "no-email", "xlsx", "latin1-header", "binary", "utf16", "cr"],
)
def test_unusable_files_are_refused_with_a_reason(marketer, content, message):
    with pytest.raises(imports.ImportRefused) as refused:
        imports.start_import(upload(content), by=marketer)

    assert message in refused.value.message
    assert ImportJob.objects.count() == 0


def test_file_over_the_size_limit_is_refused(marketer, settings):
    settings.FUNNEL_IMPORT_MAX_BYTES = 1024 * 1024

    with pytest.raises(imports.ImportRefused, match=r"The file is 1\.0 MB; files of up to 1\.0 MB"):
        imports.start_import(upload(b"name,email\n" + b"Ada,ada@example.com\n" * 55000), by=marketer)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Name": "name", "Mail": "email"}, "The file has no column 'Mail'"),
        ({"Name": "stage", "E-mail": "email"}, "'stage' is not a lead field that can be imported"),
        ({"Name": "email", "E-mail": "email"}, "Two columns are mapped to e-mail address: 'Name' and 'E-mail'"),
        ({"Name": "name"}, "No column holds the e-mail address"),
    ],
)
def test_bad_mapping_is_refused(marketer, mapping, message):
    with pytest.raises(imports.ImportRefused, match=message):
        imports.start_import(upload("Name,E-mail\nAda,ada@example.com\n"), by=marketer, mapping=mapping)


def test_only_marketers_and_admins_may_import(rep, admin):
    with pytest.raises(imports.ImportRefused, match="Only marketers and admins may import leads"):
        imports.start_import(upload("name,email\nAda,ada@example.com\n"), by=rep)

    assert imports.start_import(upload("name,email\nAda,ada@example.com\n"), by=admin, queue=False).pk


def test_unknown_job_is_refused(db):
    with pytest.raises(imports.ImportRefused, match="There is no import job 4242"):
        imports.run_import(4242)


# The job: storage, queueing, history, scoring


def test_start_import_stores_the_file_and_queues_the_task_after_commit(marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = imports.start_import(upload("name,email\nAda,ada@example.com\n", name="../../spring.csv"), by=marketer)

    assert len(callbacks) == 1  # the task, run in-process by the test settings
    job.refresh_from_db()
    assert (job.status, job.original_name, job.created_by, job.total_bytes) == ("done", "spring.csv", marketer, 31)
    assert job.file.name.startswith("imports/") and job.file.read() == b"name,email\nAda,ada@example.com\n"
    assert emails() == ["ada@example.com"]


def test_each_new_lead_gets_a_created_event_by_the_importer(marketer):
    job = import_csv("name,email,source\nAda,ada@example.com,webinar\n", by=marketer)

    event = LeadEvent.objects.get(lead__email="ada@example.com")
    assert (event.kind, event.actor, event.to_stage) == (EventKind.CREATED, marketer, Stage.LEAD)
    assert event.payload == {"source": "webinar", "import": job.pk, "line": 2}


def test_imported_leads_are_scored_and_promoted_at_the_threshold(marketer, rep, team):
    ceo = ScoringRule.objects.create(
        name="CEO", category="demographic", field="job_title", operator="contains", value="ceo", points=60
    )
    dach = ScoringRule.objects.create(
        name="DACH", category="demographic", field="country", operator="one_of", value="DE,AT,CH", points=50
    )
    ScoringConfig.objects.update(mql_threshold=100)

    import_csv("name,email,title,country\nAda,ada@example.com,CEO,DE\nBob,bob@example.com,CEO,US\n", by=marketer)

    ada, bob = Lead.objects.get(name="Ada"), Lead.objects.get(name="Bob")
    assert (ada.score, ada.stage, ada.owner) == (110, Stage.MQL, rep)
    assert (bob.score, bob.stage) == (60, Stage.LEAD)
    assert set(LeadRuleScore.objects.filter(lead=ada).values_list("rule", "points")) == {(ceo.pk, 60), (dach.pk, 50)}
    kinds = list(LeadEvent.objects.filter(lead=ada).order_by("id").values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.SCORE_CHANGED, EventKind.PROMOTED]
    assert LeadEvent.objects.get(lead=bob, kind=EventKind.SCORE_CHANGED).payload == {
        "from": 0,
        "to": 60,
        "cause": "created",
    }


def test_updated_lead_is_rescored(marketer):
    ScoringRule.objects.create(
        name="DACH", category="demographic", field="country", operator="one_of", value="DE,AT,CH", points=20
    )
    lead = make_lead(email="ada@example.com", country="US")
    assert lead.score == 0

    import_csv("name,email,country\nAda,ada@example.com,ch\n", by=marketer)

    lead.refresh_from_db()
    assert (lead.country, lead.score) == ("CH", 20)
    assert LeadEvent.objects.get(lead=lead, kind=EventKind.SCORE_CHANGED).payload["to"] == 20


# Batches: atomic, resumable, claimed once


ROWS = "".join(f"Lead {n},lead{n}@example.com\n" for n in range(1, 10))


@pytest.mark.django_db(transaction=True)
def test_failure_in_a_batch_leaves_none_of_it_and_a_rerun_completes_it(marketer, monkeypatch):
    content = "name,email\n" + ROWS + "Dup,LEAD2@example.com\nBad,nope\n"  # 11 rows, batches of 3
    job = imports.start_import(upload(content), by=marketer, queue=False)
    real_write = history.write
    event_writes = []

    def failing_write(events):
        events = list(events)
        if any(event.kind == EventKind.CREATED for event in events):
            event_writes.append(1)
            if len(event_writes) == 2:  # the 2nd batch's history: its leads are already inserted
                raise RuntimeError("database went away")
        return real_write(events)

    monkeypatch.setattr(history, "write", failing_write)
    with pytest.raises(RuntimeError):
        imports.run_import(job.pk, batch_size=3)

    job.refresh_from_db()
    assert (job.status, job.error) == (ImportJob.Status.FAILED, "The import stopped: database went away")
    assert (job.committed_line, job.rows_seen, job.created_count) == (4, 3, 3)
    assert emails() == ["lead1@example.com", "lead2@example.com", "lead3@example.com"]
    assert LeadEvent.objects.count() == 3

    monkeypatch.setattr(history, "write", real_write)
    job = imports.run_import(job.pk, batch_size=3)

    assert job.status == ImportJob.Status.DONE
    assert (job.rows_seen, job.created_count, job.updated_count, job.failed_count) == (11, 9, 0, 2)
    assert Lead.objects.count() == 9
    assert LeadEvent.objects.filter(kind=EventKind.CREATED).count() == 9
    # The duplicate of a row committed before the failure is still recognised after the restart.
    assert errors(job) == [
        (11, "duplicate of line 3 (same e-mail address)"),
        (12, "'nope' is not a valid e-mail address"),
    ]


def test_task_time_limit_hands_the_rest_of_the_file_to_a_new_task(marketer, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    job = imports.start_import(upload("name,email\n" + ROWS), by=marketer, queue=False)
    real_update_leads, calls = transitions.update_leads, []

    def time_runs_out(changes, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # in the 2nd batch: Celery's signal arrives
            raise SoftTimeLimitExceeded()
        return real_update_leads(changes, **kwargs)

    monkeypatch.setattr(transitions, "update_leads", time_runs_out)
    # The tests run queued tasks at once, so the new task finishes the job before this returns.
    job = imports.run_import(job.pk, batch_size=4)

    assert (job.status, job.rows_seen, job.created_count, job.failed_count) == ("done", 9, 9, 0)
    assert Lead.objects.count() == 9
    assert LeadEvent.objects.filter(kind=EventKind.CREATED).count() == 9


def test_running_a_finished_job_again_imports_nothing(marketer):
    job = import_csv("name,email\n" + ROWS, by=marketer, batch_size=4)

    again = imports.run_import(job.pk, batch_size=4)

    assert (again.status, again.rows_seen, again.created_count) == (ImportJob.Status.DONE, 9, 9)
    assert Lead.objects.count() == 9


def test_job_left_running_by_a_dead_worker_resumes_after_its_last_batch(marketer):
    job = imports.start_import(upload("name,email\n" + ROWS), by=marketer, queue=False)
    for n in (1, 2):  # what a worker had committed before it was killed
        make_lead(name=f"Lead {n}", email=f"lead{n}@example.com")
    ImportJob.objects.filter(pk=job.pk).update(status="running", committed_line=3, rows_seen=2, created_count=2)

    job = imports.run_import(job.pk, batch_size=4)

    assert (job.status, job.rows_seen, job.created_count, job.updated_count) == ("done", 9, 9, 0)
    assert Lead.objects.count() == 9


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_job_at_once_import_each_row_once(marketer):
    content = "name,email\n" + "".join(f"Lead {n},lead{n}@example.com\n" for n in range(1, 301)) + "Bad,nope\n"
    job = imports.start_import(upload(content), by=marketer, queue=False)
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait(timeout=10)
            outcomes.append(imports.run_import(job.pk, batch_size=7).status)
        except Exception as exc:  # surfaced by the assertion below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 2 and all(isinstance(outcome, str) for outcome in outcomes), outcomes
    job.refresh_from_db()
    assert (job.status, job.rows_seen, job.created_count, job.failed_count) == ("done", 301, 300, 1)
    assert Lead.objects.count() == 300
    assert LeadEvent.objects.filter(kind=EventKind.CREATED).count() == 300
    assert ImportRowError.objects.filter(job=job).count() == 1


def test_missing_file_fails_the_job_with_a_reason(marketer):
    job = imports.start_import(upload("name,email\nAda,ada@example.com\n"), by=marketer, queue=False)
    job.file.storage.delete(job.file.name)

    job = imports.run_import(job.pk)

    assert (job.status, job.error) == ("failed", "The uploaded file is no longer available; upload it again.")


def test_seen_addresses_survive_the_table_growing():
    seen = cleaning.SeenEmails()
    for n in range(100_000):
        assert seen.first_line(f"lead{n}@example.com", n + 2) is None

    assert seen.first_line("lead0@example.com", 999_999) == 2
    assert seen.first_line("lead99999@example.com", 999_999) == 100_001
    assert seen.size == 1 << 18


# The management command


def write(tmp_path, content, name="leads.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def test_command_imports_a_file_and_prints_a_summary_with_the_first_bad_rows(tmp_path, marketer, capsys):
    path = write(tmp_path, "Who,Mail\nAda,ada@example.com\nBob,nope\n")

    call_command("import_leads", path, "--mapping", "Who=name", "Mail=email", "--user", "mark")

    out, err = capsys.readouterr()
    assert "1 created, 0 updated, 0 unchanged, 1 bad" in out
    assert "line 3: 'nope' is not a valid e-mail address" in out
    assert "100%" in err
    assert ImportJob.objects.get().created_by == marketer
    assert emails() == ["ada@example.com"]


def test_command_exits_non_zero_for_a_refused_file(tmp_path, db, capsys):
    path = write(tmp_path, "name,company\nAda,Analytical\n")

    with pytest.raises(SystemExit) as exit_info:
        ImportLeadsCommand().run_from_argv(["manage.py", "import_leads", path])

    assert exit_info.value.code == 1
    assert "No column holds the e-mail address" in capsys.readouterr().err


def test_command_refuses_a_user_who_may_not_import(tmp_path, rep):
    path = write(tmp_path, "name,email\nAda,ada@example.com\n")

    with pytest.raises(CommandError, match="Only marketers and admins may import leads"):
        call_command("import_leads", path, "--user", rep.username)


def test_command_resumes_a_failed_import(marketer, capsys):
    job = imports.start_import(upload("name,email\n" + ROWS), by=marketer, queue=False)
    ImportJob.objects.filter(pk=job.pk).update(status="failed", error="worker lost")

    call_command("import_leads", "--resume", str(job.pk))

    assert "9 rows, 9 created" in capsys.readouterr().out
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE


def test_command_needs_a_file_or_a_job_to_resume(db):
    with pytest.raises(CommandError, match="Name the CSV file to import, or --resume an import"):
        call_command("import_leads")
    with pytest.raises(CommandError, match="There is no import job 99"):
        call_command("import_leads", "--resume", "99")


def test_command_queue_hands_the_job_to_the_worker(tmp_path, marketer, capsys, django_capture_on_commit_callbacks):
    path = write(tmp_path, "name,email\nAda,ada@example.com\n")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("import_leads", path, "--queue", "--user", make_user(role="admin").username)

    assert len(callbacks) == 1
    assert "Queued import" in capsys.readouterr().out
    assert ImportJob.objects.get().status == ImportJob.Status.QUEUED


def test_error_report_does_not_hand_formulas_to_a_spreadsheet(marketer):
    job = import_csv("name,email\n=1+2,nope\n", by=marketer)

    rows = list(csv.reader(io.StringIO("".join(imports.error_report_csv(job)))))

    assert rows[1] == ["2", "'nope' is not a valid e-mail address", "'=1+2,nope"]


def test_an_update_by_import_is_recorded_in_the_history(marketer):
    from leads.models import EventKind, LeadEvent

    lead = make_lead(by=marketer, name="Old Name", email="Known@Example.com", company="Old Co")
    job = import_csv("email,name,company\nknown@example.com,Old Name,New Co\n", by=marketer)
    assert job.updated_count == 1
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.UPDATED)
    assert event.payload["fields"] == {"company": ["Old Co", "New Co"]}
    assert event.payload["line"] == 2
    assert event.actor == marketer


# ---------- every row's fate ----------


def fates(job):
    return list(ImportRowFate.objects.filter(job=job).order_by("line").values_list("line", "fate"))


def test_every_row_has_its_fate_created_updated_unchanged_or_bad(marketer):
    make_lead(name="Old", email="old@acme.example")
    make_lead(name="Same", email="same@acme.example")
    content = (
        "name,email\n"
        "New,new@acme.example\n"
        "Renamed,OLD@acme.example\n"
        "Same,same@acme.example\n"
        "Bad,not-an-address\n"
        "Again,NEW@acme.example\n"
    )

    job = import_csv(content, by=marketer)

    assert fates(job) == [(2, "created"), (3, "updated"), (4, "unchanged"), (5, "bad"), (6, "bad")]
    rows = ImportRowFate.objects.filter(job=job)
    assert rows.get(line=2).lead_id == Lead.objects.get(email="new@acme.example").pk
    assert rows.get(line=6).reason == "duplicate of line 2 (same e-mail address)"


def test_the_rows_page_shows_each_fate_a_page_at_a_time(client, marketer, settings):
    content = "name,email\n" + "".join(f"P{n},p{n}@acme.example\n" for n in range(150)) + "Bad,nope\n"
    job = import_csv(content, by=marketer)
    client.force_login(marketer)
    url = reverse("scoring:import_rows", args=[job.pk])

    first = client.get(url).content.decode()
    assert ">2</th>" in first and ">101</th>" in first and ">102</th>" not in first
    assert "the first one wins" in first
    second = client.get(url, {"after": 101}).content.decode()
    assert ">102</th>" in second and ">152</th>" in second and "is not a valid e-mail address" in second
    bad = client.get(url, {"fate": "bad"}).content.decode()
    assert ">152</th>" in bad and ">2</th>" not in bad
    assert client.get(url, {"after": "x", "fate": "nonsense"}).status_code == 200
    assert "Every row's fate" in client.get(reverse("scoring:import_job", args=[job.pk])).content.decode()


def test_a_binary_file_is_refused_without_echoing_it(marketer):
    for content in (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, b"GIF89a\x00\x01\x02" + b"\xff" * 500):
        with pytest.raises(imports.ImportRefused) as refused:
            imports.start_import(upload(content, name="photo.csv"), by=marketer, queue=False)
        message = str(refused.value)
        assert "PNG" not in message and "GIF" not in message and len(message) < 200


def test_echoed_values_are_cut_to_about_80_characters(marketer):
    address = "x" * 200 + "@@acme.example"
    job = import_csv(f"name,email,country\nAda,{address},{'Q' * 300}\n", by=marketer)

    ((reason,),) = ImportRowError.objects.filter(job=job).values_list("reason")
    assert "x" * 78 + "…" in reason and "x" * 80 not in reason
    assert "Q" * 80 not in reason


def test_each_ragged_line_is_reported_with_its_own_line_number(marketer):
    job = import_csv(
        "name,email,company\nAda,ada@acme.example,A\nBob\nCy,cy@acme.example,C,extra\nDi,di@acme.example,D\n",
        by=marketer,
    )

    assert errors(job) == [(3, "expected 3 columns, got 1"), (4, "expected 3 columns, got 4")]
    assert fates(job) == [(2, "created"), (3, "bad"), (4, "bad"), (5, "created")]
