"""Accounts: a lead's company by the registrable domain of its e-mail, or by name for free-mail."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads import accounts, transitions
from leads.models import Account, FreeMailDomain, Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("acme.com", "acme.com"),
        ("mail.eu.acme.com", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("sales.acme.co.uk", "acme.co.uk"),
        ("acme.com.au", "acme.com.au"),
        ("ACME.DE", "acme.de"),
        ("co.uk", ""),
        ("intranet.acme.example", "acme.example"),
        ("", ""),
    ],
)
def test_registrable_domain_uses_the_public_suffix_list(host, domain):
    assert accounts.registrable_domain(host.lower()) == domain


def test_the_suffix_list_is_the_bundled_snapshot_never_a_download():
    assert accounts._extract.suffix_list_urls == ()


def test_leads_from_subdomains_of_one_company_share_its_account():
    first = make_lead(email="ann@acme.co.uk", company="Acme Ltd")
    second = make_lead(email="bob@sales.acme.co.uk", company="ACME UK")
    other = make_lead(email="cy@acme.com", company="Acme Inc.")

    assert first.account_id is not None
    assert second.account_id == first.account_id
    assert other.account_id not in (None, first.account_id)
    account = Account.objects.get(pk=first.account_id)
    assert (account.domain, account.name) == ("acme.co.uk", "Acme Ltd")


def test_free_mail_lead_joins_the_account_with_its_company_name():
    company = make_lead(email="ann@acme.co.uk", company="Acme Ltd")
    free = make_lead(email="bob.smith@gmail.com", company="ACME, Ltd.")

    assert free.account_id == company.account_id
    assert Account.objects.filter(domain="gmail.com").count() == 0


def test_free_mail_lead_of_an_unknown_company_stays_unmatched():
    lead = make_lead(email="bob@yahoo.co.uk", company="Nowhere GmbH")
    no_company = make_lead(email="cy@gmail.com", company="")

    assert lead.account_id is None
    assert no_company.account_id is None


def test_admins_free_mail_list_decides():
    FreeMailDomain.objects.create(domain="Example-Mail.com")
    lead = make_lead(email="dee@example-mail.com", company="")
    FreeMailDomain.objects.filter(domain="gmail.com").delete()
    gmail = make_lead(email="eve@gmail.com", company="")

    assert lead.account_id is None
    assert Account.objects.get(pk=gmail.account_id).domain == "gmail.com"


def test_the_shipped_free_mail_list_is_loaded():
    assert {"gmail.com", "outlook.com", "web.de", "yahoo.co.uk"} <= accounts.free_mail_domains()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme GmbH & Co. KG", "acme and"),
        ("Société Générale S.A.", "societe generale"),
        ("", ""),
    ],
)
def test_company_key_ignores_case_accents_punctuation_and_legal_form(name, key):
    assert accounts.company_key(name) == key


def test_changing_the_email_moves_the_lead_to_the_new_account(marketer):
    lead = make_lead(email="ann@acme.co.uk", company="Acme")
    lead = transitions.update_lead(lead, by=marketer, email="ann@globex.de")

    assert Account.objects.get(pk=lead.account_id).domain == "globex.de"


def test_import_of_many_rows_makes_each_account_once():
    rows = [({"name": f"P {n}", "email": f"p{n}@dept{n % 3}.initech.com"}, {}) for n in range(9)]
    ids, _ready = transitions.create_leads(rows, by=None, now=timezone.now())

    assert Lead.objects.filter(pk__in=ids).values("account").distinct().count() == 1
    assert Account.objects.filter(domain="initech.com").count() == 1


def test_backfill_matches_leads_made_before_accounts():
    lead = make_lead(email="ann@sub.acme.co.uk", phone="020 7946 0000", country="GB")
    Lead.objects.filter(pk=lead.pk).update(account=None, email_normalised="", phone_e164="")

    call_command("backfill_accounts", "--batch-size", "1")
    call_command("backfill_accounts")

    lead.refresh_from_db()
    assert lead.account.domain == "acme.co.uk"
    assert (lead.email_normalised, lead.phone_e164) == ("ann@sub.acme.co.uk", "+442079460000")
