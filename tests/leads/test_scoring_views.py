"""Marketing pages: the scoring matrix (rules, threshold, rescore), the threshold what-if and the CSV import."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from leads import activities, scoring, transitions
from leads.models import (
    Activity,
    ActivityKind,
    ImportJob,
    ImportRowError,
    Lead,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
    Stage,
    TeamMember,
)
from leads.scoring_views import describe_rule
from tests.factories import lead_in_stage, make_lead

HTMX = {"HTTP_HX_REQUEST": "true"}
B = ScoringRule.Category.BEHAVIOUR
D = ScoringRule.Category.DEMOGRAPHIC


@pytest.fixture
def as_user(client, db):
    def login(user):
        client.force_login(user)
        return client

    return login


def behaviour_rule(name, points, kind=ActivityKind.WEBSITE_VISIT, **fields):
    return ScoringRule.objects.create(name=name, category=B, activity_kind=kind, points=points, **fields)


def demographic_rule(name, points, **fields):
    return ScoringRule.objects.create(name=name, category=D, points=points, **fields)


def set_threshold(value):
    ScoringConfig.objects.update(mql_threshold=value)


def rule_post(**overrides):
    """A valid behaviour rule as the form posts it."""
    data = {
        "name": "Visited pricing",
        "category": "behaviour",
        "activity_kind": "website_visit",
        "url_contains": "/pricing",
        "field": "",
        "operator": "",
        "value": "",
        "min_value": "",
        "max_value": "",
        "points": "15",
        "cap": "45",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def demographic_post(**overrides):
    return rule_post(
        **{
            "name": "Mid-size company",
            "category": "demographic",
            "activity_kind": "",
            "url_contains": "",
            "field": "company_size",
            "operator": "between",
            "min_value": "50",
            "max_value": "1000",
            "points": "20",
            "cap": "",
            **overrides,
        }
    )


# ---------- who may use the marketing pages ----------

MARKETING_PAGES = ["scoring:matrix", "scoring:rule_create", "scoring:what_if", "scoring:import"]


@pytest.mark.parametrize("page", MARKETING_PAGES)
@pytest.mark.parametrize(("persona", "status"), [("rep", 403), ("manager", 403), ("marketer", 200), ("admin", 200)])
def test_only_marketers_and_admins_open_the_marketing_pages(request, as_user, persona, status, page):
    response = as_user(request.getfixturevalue(persona)).get(reverse(page))
    assert response.status_code == status


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(reverse("scoring:matrix"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_sales_cannot_change_rules_threshold_or_start_a_rescore(request, as_user, persona):
    rule = behaviour_rule("Pricing", 10)
    client = as_user(request.getfixturevalue(persona))
    assert client.post(reverse("scoring:rule_create"), rule_post()).status_code == 403
    assert client.post(reverse("scoring:rule_toggle", args=[rule.pk])).status_code == 403
    assert client.post(reverse("scoring:rule_delete", args=[rule.pk])).status_code == 403
    assert client.post(reverse("scoring:threshold"), {"mql_threshold": "5"}).status_code == 403
    assert client.post(reverse("scoring:rescore")).status_code == 403
    assert ScoringRule.objects.filter(pk=rule.pk, is_active=True).count() == 1
    assert ScoringConfig.current().mql_threshold == 100
    assert not ScoringRun.objects.exists()


# ---------- the matrix ----------


def test_matrix_groups_rules_and_states_conditions_in_plain_words(as_user, marketer):
    behaviour_rule("Pricing page", 15, url_contains="/pricing", cap=45)
    behaviour_rule("Webinar", 25, kind=ActivityKind.WEBINAR)
    demographic_rule("CEO", 30, field="job_title", operator="contains", value="CEO")
    demographic_rule("Mid-size", 20, field="company_size", operator="between", min_value=50, max_value=1000)
    demographic_rule("Free mail", -40, field="email_domain", operator="free_mail")
    demographic_rule("DACH", 10, field="country", operator="one_of", value="DE, AT, CH", is_active=False)

    html = as_user(marketer).get(reverse("scoring:matrix")).content.decode()

    assert html.index("Behaviour") < html.index("Pricing page") < html.index("Demographic") < html.index("CEO")
    for words in (
        "Website visit with URL containing /pricing",
        "Webinar attendance",
        "Job title contains CEO",
        "Company size between 50 and 1000",
        "E-mail domain is a free-mail provider",
        "Country is one of DE, AT, CH",
    ):
        assert words in html
    assert '<span class="points points-plus">+15</span>' in html
    assert '<span class="points points-minus">-40</span>' in html
    assert 'aria-checked="false" aria-label="DACH active"' in html
    assert "Rescoring never demotes" in html


def test_describe_rule_handles_open_ranges():
    rule = ScoringRule(category=D, field="company_size", operator="between", min_value=1000, points=5)
    assert describe_rule(rule) == "Company size at least 1000"
    rule.min_value, rule.max_value = None, 10
    assert describe_rule(rule) == "Company size at most 10"


@pytest.mark.parametrize("count", [1, 8])
def test_matrix_query_count_does_not_grow_with_rules_or_runs(as_user, marketer, django_assert_num_queries, count):
    for i in range(count):
        behaviour_rule(f"Visit {i}", 5)
        demographic_rule(f"Title {i}", 5, field="job_title", operator="contains", value=f"t{i}")
        ScoringRun.objects.create(requested_by=marketer, status=ScoringRun.Status.DONE)
    client = as_user(marketer)
    # session, user (with the profile: language and time zone), the user's role groups, the rules,
    # the scoring settings, the recent runs with who asked
    with django_assert_num_queries(6):
        response = client.get(reverse("scoring:matrix"))
    assert response.content.decode().count('class="rule-row') == 2 * count


# ---------- adding and editing rules ----------


def test_marketer_adds_a_behaviour_rule(as_user, marketer):
    response = as_user(marketer).post(reverse("scoring:rule_create"), rule_post())

    rule = ScoringRule.objects.get()
    assert response.status_code == 302
    assert response.url == f"{reverse('scoring:matrix')}#rule-{rule.pk}"
    assert (rule.category, rule.activity_kind, rule.url_contains, rule.points, rule.cap) == (
        B,
        "website_visit",
        "/pricing",
        15,
        45,
    )
    page = as_user(marketer).get(response.url).content.decode()
    assert "Saved the new rule “Visited pricing”. Rescore all leads to apply it." in page


def test_marketer_adds_a_demographic_rule_and_leftover_behaviour_fields_are_dropped(as_user, marketer):
    # The page hides the behaviour fields once "demographic" is chosen, but the browser still sends them.
    data = demographic_post(activity_kind="webinar", url_contains="/pricing", value="ignored")
    response = as_user(marketer).post(reverse("scoring:rule_create"), data)

    assert response.status_code == 302
    rule = ScoringRule.objects.get()
    assert (rule.category, rule.field, rule.operator, rule.min_value, rule.max_value) == (
        D,
        "company_size",
        "between",
        50,
        1000,
    )
    assert (rule.activity_kind, rule.url_contains, rule.value) == ("", "", "")


def test_add_rule_link_of_a_group_preselects_its_kind(as_user, marketer):
    html = as_user(marketer).get(reverse("scoring:rule_create"), {"category": "demographic"}).content.decode()
    assert 'value="demographic" id="id_category_1" required checked' in html


def test_one_of_values_are_tidied(as_user, marketer):
    data = demographic_post(field="country", operator="one_of", value=" DE,, AT ,CH ", min_value="", max_value="")
    as_user(marketer).post(reverse("scoring:rule_create"), data)
    assert ScoringRule.objects.get().value == "DE, AT, CH"


INVALID_RULES = [
    # (what is wrong, posted data, field with the error, words of the error)
    ("no name", rule_post(name="  "), "name", "Give the rule a name"),
    ("no kind of rule", rule_post(category=""), "category", "Choose behaviour or demographic"),
    ("behaviour without activity", rule_post(activity_kind="", url_contains=""), "activity_kind", "needs the activity"),
    (
        "sales activity",
        rule_post(activity_kind="call", url_contains=""),
        "activity_kind",
        "sales activities never score",
    ),
    ("URL on a webinar", rule_post(activity_kind="webinar"), "url_contains", "only applies to website visits"),
    ("demographic without field", demographic_post(field=""), "field", "needs the lead field"),
    ("demographic without condition", demographic_post(operator=""), "operator", "needs a condition"),
    ("between without bounds", demographic_post(min_value="", max_value=""), "min_value", "at least one bound"),
    ("between upside down", demographic_post(min_value="1000", max_value="50"), "max_value", "must not be below"),
    ("between not a number", demographic_post(min_value="fifty"), "min_value", "whole number"),
    ("between absurdly big", demographic_post(max_value="99999999999999999999"), "max_value", "up to 10,000,000"),
    ("between negative", demographic_post(min_value="-5"), "min_value", "0 or more"),
    ("between on text", demographic_post(field="job_title"), "operator", "only Company size is a number"),
    ("one_of without values", demographic_post(operator="one_of", value=" , ,"), "value", "separated by commas"),
    ("contains without text", demographic_post(operator="contains", value=""), "value", "Enter the text"),
    ("free mail on a title", demographic_post(field="job_title", operator="free_mail"), "field", "E-mail domain"),
    ("zero points", rule_post(points="0"), "points", "worth 0 points"),
    ("too many points", rule_post(points="1001"), "points", "between -1000 and 1000"),
    ("too few points", rule_post(points="-1001"), "points", "between -1000 and 1000"),
    ("points not a number", rule_post(points="lots"), "points", "whole number"),
    ("zero cap", rule_post(cap="0"), "cap", "positive number"),
    ("negative cap", rule_post(cap="-5"), "cap", "positive number"),
]


@pytest.mark.parametrize(("case", "data", "field", "words"), INVALID_RULES, ids=[case[0] for case in INVALID_RULES])
def test_invalid_rule_shows_the_field_error_and_saves_nothing(as_user, marketer, case, data, field, words):
    response = as_user(marketer).post(reverse("scoring:rule_create"), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html or field == "category"
    assert "nothing was saved" in html
    assert not ScoringRule.objects.exists()


def test_marketer_edits_a_rule(as_user, marketer):
    rule = behaviour_rule("Pricing", 10, url_contains="/pricing")
    client = as_user(marketer)
    form = client.get(reverse("scoring:rule_edit", args=[rule.pk])).content.decode()
    assert 'value="/pricing"' in form

    response = client.post(reverse("scoring:rule_edit", args=[rule.pk]), rule_post(name="Pricing", points="-5"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.points, rule.cap) == (-5, 45)


def test_invalid_edit_changes_nothing(as_user, marketer):
    rule = behaviour_rule("Pricing", 10, url_contains="/pricing")
    response = as_user(marketer).post(reverse("scoring:rule_edit", args=[rule.pk]), rule_post(points="0"))
    assert response.status_code == 400
    rule.refresh_from_db()
    assert rule.points == 10


def test_editing_an_unknown_rule_is_404(as_user, marketer):
    assert as_user(marketer).get(reverse("scoring:rule_edit", args=[999])).status_code == 404


def test_toggle_turns_a_rule_off_in_place_and_asks_for_a_rescore(as_user, marketer):
    rule = behaviour_rule("Pricing", 10)
    ScoringRun.objects.create(status=ScoringRun.Status.DONE, created_at=timezone.now() - timedelta(hours=1))

    response = as_user(marketer).post(reverse("scoring:rule_toggle", args=[rule.pk]), **HTMX)

    html = response.content.decode()
    assert html.startswith(f'<tr id="rule-{rule.pk}" class="rule-row is-inactive">')
    assert 'aria-checked="false"' in html
    assert "Turned “Pricing” off." in html
    assert ScoringRule.objects.get(pk=rule.pk).is_active is False
    # The rescore panel hears of it and reloads with the reminder.
    assert response["HX-Trigger"] == '{"scoring-changed": {}}'
    panel = as_user(marketer).get(reverse("scoring:rescore_panel")).content.decode()
    assert 'hx-trigger="scoring-changed from:body"' in panel
    assert "Changes not applied yet." in panel


def test_toggle_without_htmx_redirects_back_to_the_rule(as_user, marketer):
    rule = behaviour_rule("Pricing", 10, is_active=False)
    response = as_user(marketer).post(reverse("scoring:rule_toggle", args=[rule.pk]))
    assert response.status_code == 302
    assert response.url.endswith(f"#rule-{rule.pk}")
    assert ScoringRule.objects.get(pk=rule.pk).is_active is True


def test_deleting_a_rule_nobody_scores_with_changes_no_score(as_user, marketer):
    rule = behaviour_rule("Pricing", 10)
    client = as_user(marketer)
    confirm = client.get(reverse("scoring:rule_delete", args=[rule.pk])).content.decode()
    assert "No lead gets points from it" in confirm

    response = client.post(reverse("scoring:rule_delete", args=[rule.pk]))

    assert response.status_code == 302
    assert not ScoringRule.objects.exists()
    assert not ScoringRun.objects.exists()


def test_deleting_a_rule_that_gave_points_rescores_everyone(as_user, marketer, django_capture_on_commit_callbacks):
    set_threshold(1000)
    rule = demographic_rule("CEO", 30, field="job_title", operator="contains", value="CEO")
    lead = make_lead(job_title="CEO")
    assert Lead.objects.get(pk=lead.pk).score == 30
    client = as_user(marketer)
    assert (
        "gives points to <strong>1 lead</strong>"
        in client.get(reverse("scoring:rule_delete", args=[rule.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:rule_delete", args=[rule.pk]))

    assert Lead.objects.get(pk=lead.pk).score == 0
    assert ScoringRun.objects.get().status == ScoringRun.Status.DONE


# ---------- threshold and rescore ----------


def test_marketer_changes_the_threshold(as_user, marketer):
    response = as_user(marketer).post(reverse("scoring:threshold"), {"mql_threshold": "80"}, follow=True)

    config = ScoringConfig.current()
    assert (config.mql_threshold, config.updated_by) == (80, marketer)
    html = response.content.decode()
    assert "The MQL threshold is now 80. Rescore all leads to apply it." in html
    assert 'value="80"' in html


@pytest.mark.parametrize(("value", "words"), [("0", "between 1 and 100000"), ("abc", "whole number"), ("", "Give the")])
def test_bad_threshold_is_refused_with_a_field_error(as_user, marketer, value, words):
    response = as_user(marketer).post(reverse("scoring:threshold"), {"mql_threshold": value})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert ScoringConfig.current().mql_threshold == 100


def test_threshold_change_after_the_last_run_shows_changes_pending(as_user, marketer):
    ScoringRun.objects.create(status=ScoringRun.Status.DONE)
    client = as_user(marketer)
    assert "Changes not applied yet." not in client.get(reverse("scoring:matrix")).content.decode()
    client.post(reverse("scoring:threshold"), {"mql_threshold": "80"})
    assert "Changes not applied yet." in client.get(reverse("scoring:matrix")).content.decode()


def test_rescore_starts_a_run_and_its_status_shows_progress(
    as_user, marketer, team, rep, django_capture_on_commit_callbacks
):
    demographic_rule("CEO", 30, field="job_title", operator="contains", value="CEO")
    ceo = make_lead(job_title="CEO")
    make_lead(job_title="Intern")
    set_threshold(25)  # lowered after the leads came in: only a rescore promotes the CEO
    assert Lead.objects.get(pk=ceo.pk).stage == Stage.LEAD
    client = as_user(marketer)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("scoring:rescore"), **HTMX)
    run = ScoringRun.objects.get()
    assert run.requested_by == marketer
    html = response.content.decode()
    assert html.startswith('<section class="card rescore-card" id="rescore"')
    # Still queued: the status polls every second.
    assert f'hx-get="{reverse("scoring:rescore_status", args=[run.pk])}" hx-trigger="every 1s"' in html
    assert "Waiting for a worker" in html

    for callback in callbacks:
        callback()

    status = client.get(reverse("scoring:rescore_status", args=[run.pk])).content.decode()
    assert "hx-trigger" not in status  # finished: polling stops
    assert '<progress max="100" value="100"' in status
    assert "<dd>2 of 2</dd>" in status
    assert "Became MQL</dt><dd>1</dd>" in status
    assert "Rescore done: 0 scores changed, 1 leads promoted." in status
    assert Lead.objects.get(pk=ceo.pk).stage == Stage.MQL


def test_rescore_status_shows_a_run_halfway(as_user, marketer):
    run = ScoringRun.objects.create(status=ScoringRun.Status.RUNNING, total=200, done=50, changed=7, promoted=2)
    html = as_user(marketer).get(reverse("scoring:rescore_status", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert '<progress max="100" value="25"' in html
    assert "<dd>50 of 200</dd>" in html


def test_rescore_without_htmx_redirects_to_the_progress(as_user, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(marketer).post(reverse("scoring:rescore"))
    assert response.status_code == 302
    assert response.url == f"{reverse('scoring:matrix')}#rescore"
    assert ScoringRun.objects.get().status == ScoringRun.Status.DONE


def test_rescore_never_demotes_leads_with_sales(as_user, marketer, rep, team, django_capture_on_commit_callbacks):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    set_threshold(100_000)
    with django_capture_on_commit_callbacks(execute=True):
        as_user(marketer).post(reverse("scoring:rescore"))
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SAL


# ---------- what-if ----------


@pytest.fixture
def history(team, rep):
    """Three leads of the last weeks: visits to /pricing give 10 each; at threshold 30 the third became an MQL."""
    behaviour_rule("Pricing", 10, url_contains="/pricing")
    set_threshold(30)
    TeamMember.objects.filter(user=rep).update(mql_capacity=1)
    now = timezone.now()
    leads = []
    for visits in (1, 2, 3):
        lead = make_lead(now=now - timedelta(days=20))
        for i in range(visits):
            when = now - timedelta(days=10 - i)
            visit = Activity.objects.create(
                lead=lead, kind=ActivityKind.WEBSITE_VISIT, url="https://example.com/pricing", occurred_at=when
            )
            lead = activities.apply_activities([visit], now=when)[lead.pk]
        leads.append(lead)
    assert leads[2].stage == Stage.MQL
    return leads


def test_what_if_compares_a_lower_threshold_with_the_mqls_produced(as_user, marketer, history):
    response = as_user(marketer).get(reverse("scoring:what_if"), {"threshold": "20", "weeks": "4"})

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.actual_total, result.current_total, result.candidate_total) == (1, 1, 2)
    html = response.content.decode()
    assert '<p class="compare-threshold">20</p>' in html
    assert "<strong>2</strong> MQLs" in html
    assert "<strong>1</strong> MQL" in html
    assert "+1 vs produced" in html
    assert "threshold gives exactly the 1 MQLs produced" in html
    assert "Leads it adds" in html and history[1].name in html
    assert "Never handed to sales" in html
    assert 'id="what-if-data"' in html
    # One available rep with room for 1 MQL a week; 2 MQLs in 4 weeks is 0.5 a week: not over.
    assert "Rita Rep" in html
    assert "over capacity" not in html


def test_what_if_words_how_leads_fared_as_the_report_lists_do(as_user, marketer, history):
    # The lead with three visits became an MQL eight days ago and nobody answered it.
    client = as_user(marketer)

    what_if = client.get(reverse("scoring:what_if"), {"threshold": "20", "weeks": "4"}).content.decode()
    listed = client.get(reverse("reports:leads"), {"metric": "ignore_rate", "bucket": "ignored"}).content.decode()

    assert "Ignored (window expired)" in what_if and "Never handed to sales" in what_if
    assert "Ignored (window expired)" in listed and history[2].name in listed


def test_what_if_flags_reps_over_capacity(as_user, marketer, history):
    response = as_user(marketer).get(reverse("scoring:what_if"), {"threshold": "10", "weeks": "2"})
    html = response.content.decode()
    assert response.context["result"].candidate_total == 3
    assert "1 over capacity" in html
    assert 'class="is-over"' in html


def test_what_if_shows_the_leads_a_higher_threshold_removes_with_their_reasons(as_user, marketer, history, rep):
    transitions.reject_lead(history[2], by=history[2].owner, reason="no-budget")
    response = as_user(marketer).get(reverse("scoring:what_if"), {"threshold": "35", "weeks": "4"})
    html = response.content.decode()
    assert response.context["result"].removed.lead_ids == (history[2].pk,)
    assert "Leads it removes" in html
    assert "Rejected" in html
    assert "No budget" in html


def test_what_if_page_starts_with_the_current_threshold_and_eight_weeks(as_user, marketer):
    set_threshold(70)
    response = as_user(marketer).get(reverse("scoring:what_if"))
    assert response.status_code == 200
    assert response.context["result"] is None
    html = response.content.decode()
    assert 'name="threshold" value="70"' in html
    assert 'name="weeks" value="8"' in html


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"threshold": "0", "weeks": "8"}, "threshold", "between 1 and 100000"),
        ({"threshold": "abc", "weeks": "8"}, "threshold", "whole number"),
        ({"threshold": "", "weeks": "8"}, "threshold", "Give the threshold"),
        ({"threshold": "50", "weeks": "0"}, "weeks", "at least 1 week"),
        ({"threshold": "50", "weeks": "53"}, "weeks", "at most 52 weeks"),
        ({"threshold": "50", "weeks": "x"}, "weeks", "whole number"),
    ],
)
def test_what_if_refuses_bad_input_with_400(as_user, marketer, params, field, words):
    response = as_user(marketer).get(reverse("scoring:what_if"), params)
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field])
    assert response.context["result"] is None
    assert f'id="id_{field}_error"' in response.content.decode()


# ---------- CSV import ----------

GOOD_AND_BAD = (
    "name,email,company,company size,country\n"
    "Jane Cooper,jane@northwind.example,Northwind,120,DE\n"
    "No Email,,Globex,10,US\n"
    "Devon Lane,devon@globex.example,Globex,lots,US\n"
    "Priya N,priya@initech.example,Initech,15,GB\n"
    "Bad Mail,not-an-address,Initech,15,GB\n"
)


def csv_file(text, name="leads.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def imported(as_user, marketer, django_capture_on_commit_callbacks):
    """A small file with two good and three bad rows, uploaded and imported."""
    client = as_user(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:import"), {"file": csv_file(GOOD_AND_BAD)})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("scoring:import_job", args=[job.pk])
    return client, job


def test_import_shows_counts_and_the_bad_rows_with_their_lines(imported):
    client, job = imported
    response = client.get(reverse("scoring:import_job", args=[job.pk]))

    html = response.content.decode()
    assert job.status == ImportJob.Status.DONE
    assert Lead.objects.filter(email__in=["jane@northwind.example", "priya@initech.example"]).count() == 2
    assert "hx-trigger" not in html  # finished: no more polling
    assert '<progress max="100" value="100"' in html
    assert "<dt>Rows read</dt><dd>5</dd>" in html
    assert '<dt>Created</dt><dd class="text-success">2</dd>' in html
    assert "<dt>Updated</dt><dd>0</dd>" in html
    assert '<dt>Failed</dt><dd class="text-danger">3</dd>' in html
    for line, words in ((3, "e-mail address is missing"), (4, "company size must be"), (6, "not a valid e-mail")):
        assert f'<th scope="row" class="num" data-label="Line">{line}</th><td>' in html
        assert words in html
    assert "Devon Lane,devon@globex.example,Globex,lots,US" in html
    assert reverse("scoring:import_errors", args=[job.pk]) in html
    assert "Importing leads.csv" in html  # the flash message


def test_bad_rows_download_as_csv(imported):
    client, job = imported
    response = client.get(reverse("scoring:import_errors", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-bad-rows.csv"'
    body = b"".join(response.streaming_content).decode()
    lines = body.splitlines()
    assert lines[0] == "line,reason,row"
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "4", "6"]


def test_import_page_lists_recent_imports_of_the_whole_team(imported, as_user, admin):
    _client, job = imported
    html = as_user(admin).get(reverse("scoring:import")).content.decode()
    assert f'<a href="{reverse("scoring:import_job", args=[job.pk])}">leads.csv</a>' in html
    assert as_user(admin).get(reverse("scoring:import_job", args=[job.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_sales_cannot_see_or_download_imports(request, imported, as_user, persona):
    _client, job = imported
    client = as_user(request.getfixturevalue(persona))
    assert client.get(reverse("scoring:import_job", args=[job.pk])).status_code == 403
    assert client.get(reverse("scoring:import_job_status", args=[job.pk])).status_code == 403
    assert client.get(reverse("scoring:import_errors", args=[job.pk])).status_code == 403
    assert client.post(reverse("scoring:import"), {"file": csv_file(GOOD_AND_BAD)}).status_code == 403
    assert ImportJob.objects.count() == 1


def test_import_updates_existing_leads_by_email(as_user, marketer, django_capture_on_commit_callbacks):
    lead = make_lead(email="Jane@Northwind.example", company="Old name")
    with django_capture_on_commit_callbacks(execute=True):
        as_user(marketer).post(
            reverse("scoring:import"), {"file": csv_file("email,company\njane@northwind.example,Northwind\n")}
        )
    job = ImportJob.objects.get()
    assert (job.created_count, job.updated_count, job.failed_count) == (0, 1, 0)
    assert Lead.objects.get(pk=lead.pk).company == "Northwind"
    html = as_user(marketer).get(reverse("scoring:import_job", args=[job.pk])).content.decode()
    assert "Every row was imported." in html


def test_a_running_import_polls_its_status(as_user, marketer):
    job = ImportJob.objects.create(
        original_name="big.csv",
        created_by=marketer,
        status=ImportJob.Status.RUNNING,
        total_bytes=1000,
        processed_bytes=400,
        rows_seen=40,
    )
    html = as_user(marketer).get(reverse("scoring:import_job_status", args=[job.pk])).content.decode()
    assert html.startswith('<div id="import-status"')
    assert f'hx-get="{reverse("scoring:import_job_status", args=[job.pk])}" hx-trigger="every 1s"' in html
    assert '<progress max="100" value="40"' in html
    assert "<dt>Rows read</dt><dd>40</dd>" in html


def test_a_failed_import_says_why(as_user, marketer):
    job = ImportJob.objects.create(
        original_name="gone.csv",
        status=ImportJob.Status.FAILED,
        error="The uploaded file is no longer available; upload it again.",
    )
    html = as_user(marketer).get(reverse("scoring:import_job", args=[job.pk])).content.decode()
    assert "The import stopped: The uploaded file is no longer available" in html
    assert "hx-trigger" not in html


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (None, "Choose a CSV file to import."),
        (SimpleUploadedFile("leads.csv", b""), "The file is empty"),
        (SimpleUploadedFile("leads.xlsx", b"PK\x03\x04rest"), "is not a CSV file"),
        (SimpleUploadedFile("leads.csv", b"%PDF-1.7 stuff"), "a PDF document, not a CSV file"),
        (SimpleUploadedFile("leads.csv", b"name,company\nJane,Northwind\n"), "No column holds the e-mail address"),
        (SimpleUploadedFile("leads.csv", b"jane@northwind.example,Jane\n"), "looks like data, not a header"),
    ],
    ids=["no file", "empty", "excel by name", "pdf named csv", "no e-mail column", "no header"],
)
def test_refused_upload_says_why_and_creates_nothing(
    as_user, marketer, upload, words, django_capture_on_commit_callbacks
):
    data = {"file": upload} if upload is not None else {}
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(marketer).post(reverse("scoring:import"), data)

    assert response.status_code == 400
    assert words in response.content.decode()
    assert 'id="id_file_error"' in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not Lead.objects.exists()


def test_mapping_step_suggests_a_field_for_each_column(as_user, marketer):
    header = csv_file("Full Name;Work Email;Favourite colour\nJane;jane@northwind.example;blue\n")
    response = as_user(marketer).post(reverse("scoring:import_header"), {"file": header})

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="map-0">Full Name</label>' in html
    assert '<option value="name" selected>' in html
    assert '<option value="email" selected>' in html
    assert '<select id="map-2" name="map-2">\n          <option value="" selected>' in html
    assert "No column looks like an e-mail" not in html


def test_mapping_step_refuses_a_file_without_a_header(as_user, marketer):
    response = as_user(marketer).post(reverse("scoring:import_header"), {"file": csv_file("")})
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()


def test_chosen_mapping_is_used_and_ignored_columns_are_left_out(as_user, marketer, django_capture_on_commit_callbacks):
    text = "Contact,Address,Notes\nJane Cooper,jane@northwind.example,VP Sales\n"
    data = {
        "file": csv_file(text),
        "column-0": "Contact",
        "map-0": "name",
        "column-1": "Address",
        "map-1": "email",
        "column-2": "Notes",
        "map-2": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(marketer).post(reverse("scoring:import"), data)

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.mapping == {"Contact": "name", "Address": "email"}
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.job_title) == ("Jane Cooper", "jane@northwind.example", "")


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"map-0": "name", "map-1": "name"}, "Two columns are mapped to name"),
        ({"map-0": "name", "map-1": "score"}, "is not a lead field"),
        ({"map-0": "name", "map-1": ""}, "No column holds the e-mail address"),
        ({"map-0": "name"}, "columns changed since you chose it"),
        ({"map-0": "name", "map-1": "email", "map-2": "company"}, "columns changed since you chose it"),
    ],
)
def test_a_bad_mapping_is_refused(as_user, marketer, mapping, words):
    data = {"file": csv_file("Contact,Address\nJane,jane@northwind.example\n"), **mapping}
    response = as_user(marketer).post(reverse("scoring:import"), data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_mapping_for_another_file_is_refused(as_user, marketer):
    data = {
        "file": csv_file("Contact,Address\nJane,jane@n.example\n"),
        "column-0": "Name",
        "map-0": "name",
        "map-1": "email",
    }
    response = as_user(marketer).post(reverse("scoring:import"), data)
    assert response.status_code == 400
    assert "choose the file again" in response.content.decode()


@pytest.mark.parametrize("count", [1, 150])
def test_import_job_query_count_does_not_grow_with_bad_rows(as_user, marketer, django_assert_num_queries, count):
    job = ImportJob.objects.create(
        original_name="bad.csv", created_by=marketer, status=ImportJob.Status.DONE, rows_seen=count, failed_count=count
    )
    ImportRowError.objects.bulk_create(
        ImportRowError(job=job, line=line + 2, reason="e-mail address is missing", raw="x") for line in range(count)
    )
    client = as_user(marketer)
    # session, user (with the profile), the user's role groups, the job with who uploaded it, its first 100 bad rows
    with django_assert_num_queries(5):
        response = client.get(reverse("scoring:import_job", args=[job.pk]))
    html = response.content.decode()
    assert html.count('<th scope="row" class="num" data-label="Line">') == min(count, 100)
    assert ("The first 100 are shown" in html) == (count > 100)


@pytest.mark.parametrize("count", [1, 5])
def test_import_page_query_count_does_not_grow_with_jobs(as_user, marketer, django_assert_num_queries, count):
    for _ in range(count):
        ImportJob.objects.create(original_name="leads.csv", created_by=marketer, status=ImportJob.Status.DONE)
    client = as_user(marketer)
    # session, user (with the profile), the user's role groups, the recent jobs with who uploaded them
    with django_assert_num_queries(4):
        response = client.get(reverse("scoring:import"))
    assert response.content.decode().count("leads.csv</a>") == count


# ---------- the score breakdown on the lead page ----------


def test_score_breakdown_lists_each_rule_with_matches_points_and_cap(db):
    set_threshold(1000)
    pricing = behaviour_rule("Visited pricing", 15, url_contains="/pricing", cap=30)
    demographic_rule("CEO", 40, field="job_title", operator="contains", value="CEO")
    demographic_rule("Free mail", -20, field="email_domain", operator="free_mail")
    lead = make_lead(job_title="CEO", email="boss@gmail.com")
    visits = [
        Activity.objects.create(lead=lead, kind=ActivityKind.WEBSITE_VISIT, url="https://x.example/pricing")
        for _ in range(3)
    ]
    lead = activities.apply_activities(visits, now=timezone.now())[lead.pk]

    html = render_to_string(
        "scoring/_score_breakdown.html",
        {"lead": lead, "score_lines": scoring.explain(lead), "mql_threshold": scoring.threshold()},
    )

    assert lead.score == 50
    assert '<span class="score">50</span> <span class="muted">of 1000 to become an MQL</span>' in html
    assert html.index("CEO") < html.index(pricing.name) < html.index("Free mail")  # biggest share first
    assert "3 × +15 · capped at 30" in html
    assert '<span class="points points-plus">+30</span>' in html
    assert '<span class="points points-minus">-20</span>' in html


def test_score_breakdown_of_a_lead_no_rule_matches(db):
    lead = make_lead()
    html = render_to_string("scoring/_score_breakdown.html", {"lead": lead, "score_lines": []})
    assert "No scoring rule matches this lead yet." in html
    assert "to become an MQL" not in html


def test_marketer_gives_a_behaviour_rule_a_half_life_and_the_matrix_shows_it(as_user, marketer):
    response = as_user(marketer).post(reverse("scoring:rule_create"), rule_post(half_life_days="14"))

    assert response.status_code == 302
    assert ScoringRule.objects.get().half_life_days == 14
    assert "14-day half-life" in as_user(marketer).get(reverse("scoring:matrix")).content.decode()


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "The half-life must be at least 1 day"),
        ("-3", "The half-life must be at least 1 day"),
        ("4000", "The half-life can be at most 3650 days"),
        ("two weeks", "The half-life is a whole number of days"),
    ],
)
def test_a_bad_half_life_is_a_400_that_says_why(as_user, marketer, value, message):
    response = as_user(marketer).post(reverse("scoring:rule_create"), rule_post(half_life_days=value))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ScoringRule.objects.exists()


def test_a_demographic_rule_never_decays(as_user, marketer):
    response = as_user(marketer).post(reverse("scoring:rule_create"), demographic_post(half_life_days="14"))

    assert response.status_code == 302
    assert ScoringRule.objects.get().half_life_days is None


def test_admin_sets_a_half_life_in_the_django_admin(client, admin):
    rule = behaviour_rule("Visited pricing", 15, url_contains="/pricing")
    client.force_login(admin)
    url = reverse("admin:leads_scoringrule_change", args=[rule.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, rule_post(half_life_days="30"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.half_life_days, rule.cap) == (30, 45)


def test_a_title_rule_can_match_any_of_several_words(as_user, marketer):
    data = demographic_post(
        name="VP, Head of or Director",
        field="job_title",
        operator="contains_any",
        value=" VP,, Head of ,Director ",
        min_value="",
        max_value="",
    )
    as_user(marketer).post(reverse("scoring:rule_create"), data)
    rule = ScoringRule.objects.get()
    assert rule.value == "VP, Head of, Director"
    assert describe_rule(rule) == "Job title contains any of VP, Head of, Director"
    titles = {"VP Sales": True, "Head of Marketing": True, "Operations Director": True, "IT Manager": False}
    for title, matches in titles.items():
        assert scoring.demographic_match(rule, Lead(job_title=title)) is matches, title


def test_contains_any_needs_words(as_user, marketer):
    data = demographic_post(field="job_title", operator="contains_any", value=" , ", min_value="", max_value="")
    response = as_user(marketer).post(reverse("scoring:rule_create"), data)
    assert response.status_code == 400
    assert "e.g. VP, Head of, Director" in response.content.decode()
