"""``GET /api/accounts/{id}/``: an account and its leads the caller may see, as the account page shows them."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from leads import access, accounts
from leads.models import Account, Lead

from .serializers import display_name
from .views import documented

# Leads inlined in the account's JSON, newest first; the rest page through /api/leads/?account=<id>.
INLINE_LEADS = 200


class AccountLeadSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:lead-detail")
    owner_name = serializers.SerializerMethodField()
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Lead
        fields = ["id", "url", "name", "job_title", "stage", "owner", "owner_name", "team", "team_name"]
        fields += ["created_at", "possible_duplicates"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, lead):
        return display_name(lead.owner)


class AccountSerializer(serializers.ModelSerializer):
    lead_count = serializers.IntegerField(read_only=True, help_text="Leads of this account the caller may see.")
    leads_url = serializers.SerializerMethodField(help_text="All of them, a page at a time.")
    leads = AccountLeadSerializer(
        source="shown_leads", many=True, read_only=True, help_text=f"The newest {INLINE_LEADS} of them."
    )

    class Meta:
        model = Account
        fields = ["id", "name", "domain", "created_at", "lead_count", "leads_url", "leads"]
        read_only_fields = fields

    def get_leads_url(self, account) -> str:
        return self.context["request"].build_absolute_uri(f"{reverse('api:lead-list')}?account={account.pk}")


class AccountViewSet(viewsets.GenericViewSet):
    serializer_class = AccountSerializer
    lookup_value_regex = "[0-9]+"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return access.visible_accounts(self.request.user)

    @extend_schema(
        summary="One account and the leads of it you may see", responses=documented({200: AccountSerializer}, 401, 404)
    )
    def retrieve(self, request, pk=None):
        account = get_object_or_404(self.get_queryset(), pk=pk)
        leads = accounts.account_leads(account, access.visible_leads(request.user))
        account.lead_count = leads.count()
        account.shown_leads = list(leads[:INLINE_LEADS])
        return Response(self.get_serializer(account).data)
