"""Company sizes as files and forms bring them: kept as given, read into a range, matched by range."""

import pytest
from django.urls import reverse

from leads import scoring, transitions
from leads.company_sizes import CompanySizeError, parse_company_size, range_within
from leads.models import ImportRowError, Lead, ScoringRule
from leads.scoring import set_based

from ..factories import make_lead
from .test_api import LIST_URL, api, detail_url
from .test_imports import import_csv
from .test_lead_details import _form_data


@pytest.mark.parametrize(
    ("given", "low", "high"),
    [
        ("51-200", 51, 200),
        ("1,001-5,000", 1001, 5000),
        ("10k+", 10000, None),
        ("5000+", 5000, None),
        ("1 000", 1000, 1000),
        ("1\u00a0000", 1000, 1000),
        ("11\u201350", 11, 50),
        ("11 \u2014 50", 11, 50),
        ("11 to 50", 11, 50),
        ("1.5k", 1500, 1500),
        ("250", 250, 250),
        ("0", 0, 0),
        (250, 250, 250),
        ("  42 ", 42, 42),
    ],
)
def test_every_format_reads_as_a_range_and_keeps_its_text(given, low, high):
    assert parse_company_size(given) == (str(given).strip(), low, high)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("many", "not 'many'"),
        ("200-51", "low end is above its high end"),
        ("20,000,000", "above 10,000,000 employees"),
        ("1,00", "not '1,00'"),
        ("-5", "not '-5'"),
        ("1.2345k", "not a whole number"),
        ("x" * 500, "longer than 40 characters"),
    ],
)
def test_bad_sizes_are_refused_with_a_reason(given, message):
    with pytest.raises(CompanySizeError, match=message):
        parse_company_size(given)


def test_a_long_bad_value_is_echoed_cut_to_about_80_characters():
    with pytest.raises(CompanySizeError) as caught:
        parse_company_size("9" * 5000)
    assert len(str(caught.value)) < 140


def test_no_size_is_empty_text_and_no_range():
    assert parse_company_size("") == parse_company_size(None) == ("", None, None)


@pytest.mark.parametrize(
    ("size", "minimum", "maximum", "matches"),
    [
        ("201-500", 200, None, True),
        ("10k+", 200, None, True),
        ("51-200", 200, None, False),  # partly below: the whole range must be at or above
        ("200", 200, None, True),
        ("51-200", 50, 5000, True),
        ("1,001-10,000", 50, 5000, False),
        ("5000+", 50, 5000, False),  # open-ended never meets a maximum
        ("5000+", None, None, True),
        ("", None, None, False),
    ],
)
def test_a_between_rule_matches_when_the_whole_range_lies_within_it(db, size, minimum, maximum, matches):
    rule = ScoringRule.objects.create(
        name="Size",
        category="demographic",
        field="company_size",
        operator="between",
        min_value=minimum,
        max_value=maximum,
        points=10,
    )
    lead = make_lead(company_size=size)
    _text, low, high = parse_company_size(size)
    assert range_within(low, high, minimum, maximum) is matches
    assert scoring.demographic_match(rule, lead) is matches
    assert set_based.shares_in_sql([lead.pk], [rule], now=lead.created_at).get(lead.pk, {}) == (
        {rule.pk: (1, 10)} if matches else {}
    )
    assert Lead.objects.get(pk=lead.pk).score == (10 if matches else 0)


def test_text_rules_compare_the_size_as_given(db):
    rule = ScoringRule.objects.create(
        name="Startups", category="demographic", field="company_size", operator="equals", value="11-50", points=5
    )
    assert scoring.demographic_match(rule, make_lead(company_size="11-50"))
    assert not scoring.demographic_match(rule, make_lead(company_size="11\u201350"))


def test_the_api_stores_a_range_and_returns_the_text_as_given(marketer):
    response = api(marketer).post(
        LIST_URL, {"name": "Ann", "email": "ann@acme.example", "company_size": "1,001-5,000"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["company_size"], body["company_size_low"], body["company_size_high"]) == ("1,001-5,000", 1001, 5000)
    response = api(marketer).patch(detail_url(Lead.objects.get()), {"company_size": "10k+"}, format="json")
    assert response.status_code == 200, response.json()
    assert Lead.objects.values_list("company_size", "company_size_low", "company_size_high").get() == (
        "10k+",
        10000,
        None,
    )


def test_the_api_refuses_a_bad_size_with_a_sentence(marketer):
    response = api(marketer).post(
        LIST_URL, {"name": "Ann", "email": "ann@acme.example", "company_size": "lots"}, format="json"
    )

    assert response.status_code == 400
    assert "range such as 51-200" in response.json()["company_size"][0]
    assert not Lead.objects.exists()


def test_the_edit_form_refuses_a_bad_size_with_a_sentence(client, marketer):
    lead = make_lead(company_size="51-200")
    client.force_login(marketer)

    response = client.post(reverse("leads:edit", args=[lead.pk]), {**_form_data(lead), "company_size": "200-51"})

    assert "low end is above its high end" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).company_size == "51-200"
    client.post(reverse("leads:edit", args=[lead.pk]), {**_form_data(lead), "company_size": "11\u201350"})
    assert Lead.objects.values_list("company_size_low", "company_size_high").get(pk=lead.pk) == (11, 50)


def test_transitions_refuse_a_bad_size(db):
    with pytest.raises(transitions.InvalidInput, match="range such as 51-200"):
        make_lead(company_size="a few")


def test_the_import_reads_every_format_and_reports_a_bad_size_as_a_bad_row(marketer):
    rows = ["51-200", "1,001-5,000", "10k+", "5000+", "1 000", "11\u201350", "250", "plenty"]
    content = "name,email,employees\n" + "".join(f'P{n},p{n}@acme{n}.example,"{size}"\n' for n, size in enumerate(rows))

    job = import_csv(content, by=marketer)

    stored = dict(Lead.objects.values_list("company_size", "company_size_low"))
    assert stored == {
        "51-200": 51,
        "1,001-5,000": 1001,
        "10k+": 10000,
        "5000+": 5000,
        "1 000": 1000,
        "11\u201350": 11,
        "250": 250,
    }
    assert Lead.objects.get(company_size="10k+").company_size_high is None
    ((line, reason),) = ImportRowError.objects.filter(job=job).values_list("line", "reason")
    assert line == 9
    assert "not 'plenty'" in reason
