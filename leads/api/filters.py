"""Query filters of the lead list. A value the filter cannot read is a 400, never silently ignored."""

import datetime

import django_filters as filters
from django import forms
from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import extend_schema_field

from leads.models import Lead, Priority, Stage


class IdField(forms.IntegerField):
    """An object id: a positive integer small enough for any database's integer column."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(filters.NumberFilter):
    field_class = IdField


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or 1/0); unlike django-filter's default, anything else is an error, not "no filter"."""

    widget = forms.TextInput
    values = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.values[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(gettext("Use true or false."), code="invalid") from None


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


class BoundedDateTimeField(forms.DateTimeField):
    """An ISO 8601 date or date-time whose UTC equivalent exists (year 1 to 9999)."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        # In UTC, because PostgreSQL refuses UTC offsets beyond 15:59 that Python accepts.
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(gettext("This date is out of range."), code="overflow") from None


class DateTimeFilter(filters.DateTimeFilter):
    field_class = BoundedDateTimeField


class LeadOrderingFilter(filters.OrderingFilter):
    def filter(self, qs, value):
        qs = super().filter(qs, value)
        # Ties (equal scores, empty due dates) would otherwise shuffle between pages.
        return qs.order_by(*qs.query.order_by, "-id") if value else qs


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend under a name of our own, so that ``FilterBackendSchema`` can
    document what it does: an empty value (``?stage=``) means "no filter", as in an HTML form."""


class FilterBackendSchema(DjangoFilterExtension):
    target_class = FilterBackend
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        return [{**parameter, "allowEmptyValue": True} for parameter in parameters]


class LeadFilter(filters.FilterSet):
    stage = filters.ChoiceFilter(choices=Stage.choices)
    priority = filters.ChoiceFilter(choices=Priority.choices)
    owner = IdFilter(field_name="owner_id", help_text="Id of the owning rep.")
    team = IdFilter(field_name="team_id", help_text="Id of the sales team.")
    account = IdFilter(field_name="account_id", help_text="Id of the account (company).")
    possible_duplicate = StrictBooleanFilter(
        method="filter_possible_duplicate", help_text="Whether the lead may duplicate an earlier one."
    )
    source = filters.CharFilter()
    campaign = filters.CharFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Created at or after.")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Created before.")
    mql_after = DateTimeFilter(field_name="mql_at", lookup_expr="gte", help_text="Became an MQL at or after.")
    mql_before = DateTimeFilter(field_name="mql_at", lookup_expr="lt", help_text="Became an MQL before.")
    sla_breached = StrictBooleanFilter(method="filter_sla_breached", help_text="Whether the SLA was breached.")
    opted_out = StrictBooleanFilter(
        field_name="opted_out_at", lookup_expr="isnull", exclude=True, help_text="Whether the person opted out."
    )
    erased = StrictBooleanFilter(
        field_name="erased_at", lookup_expr="isnull", exclude=True, help_text="Whether the person's data was erased."
    )
    q = filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Search in name, e-mail and company: substrings, and words close to the query (a typo).",
    )
    ordering = LeadOrderingFilter(
        fields=["created_at", "mql_at", "sla_due_at", "score", "name"],
        help_text="Sort by these fields; prefix with - for descending.",
    )

    class Meta:
        model = Lead
        fields = []

    def filter_sla_breached(self, queryset, name, value: bool):
        return queryset.filter(sla_breached_at__isnull=not value)

    def filter_possible_duplicate(self, queryset, name, value: bool):
        return queryset.exclude(possible_duplicates=[]) if value else queryset.filter(possible_duplicates=[])

    def filter_search(self, queryset, name, value: str):
        return queryset.matching(value)
