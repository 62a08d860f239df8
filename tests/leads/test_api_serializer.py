"""The lead serializer's fast path gives exactly what DRF's generic field walk gives, in every state."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from leads import transitions
from leads.api.serializers import LeadSerializer
from leads.models import Lead, Stage

from ..factories import lead_in_stage, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_state(team, rep, admin):
    leads = [
        make_lead(company_size="51-200", country="DE", source="webinar", campaign="herbst"),
        lead_in_stage(Stage.MQL, owner=rep, team=team),
        lead_in_stage(Stage.SAL, owner=rep, team=team),
        lead_in_stage(Stage.SQL, owner=rep, team=team),
        lead_in_stage(Stage.REJECTED, owner=rep, team=team),
        lead_in_stage(Stage.MERGED),
    ]
    opted = transitions.opt_out_lead(lead_in_stage(Stage.MQL, team=team), by=admin, source="conversation")
    erased = transitions.erase_lead(lead_in_stage(Stage.SAL, owner=rep, team=team), by=admin)
    first = leads[0]
    # The same name at the same account: a possible duplicate of the first.
    twin = make_lead(name=first.name, email="zweite@" + first.email.split("@")[1], company=first.company)
    ids = [lead.pk for lead in (*leads, opted, erased, twin)]
    return list(
        Lead.objects.filter(pk__in=ids).select_related("owner", "team", "rejection_reason", "account").order_by("pk")
    )


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_the_fast_path_gives_what_drf_gives(every_state, zone):
    request = Request(APIRequestFactory().get("/api/leads/", format="json"))
    with timezone.override(ZoneInfo(zone)):
        for lead in every_state:
            fast = LeadSerializer(context={"request": request}).to_representation(lead)
            generic = serializers.ModelSerializer.to_representation(LeadSerializer(context={"request": request}), lead)
            assert list(fast.items()) == list(generic.items()), lead.stage
    assert any(lead.possible_duplicates for lead in every_state)
    assert any(lead.rejection_reason_id for lead in every_state)
    assert any(lead.merged_into_id for lead in every_state)
