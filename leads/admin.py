from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext

from . import (
    accounts,
    outbound,
    privacy,
    user_admin,  # noqa: F401  (registers the users' admin: deactivate, never delete)
    webhooks,
)
from .models import (
    EVENT_TYPES,
    Account,
    Activity,
    BusinessHours,
    ChatNotice,
    ErasedAddress,
    FreeMailDomain,
    Holiday,
    Lead,
    LeadEvent,
    MqlEpisode,
    NotificationPreferences,
    OptOut,
    OutboxMessage,
    RejectionReason,
    ScoringRule,
    SlackIdentity,
    SLAPolicy,
    Team,
    TeamChat,
    TeamMember,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from .scoring_forms import ScoringRuleForm

admin.site.site_header = gettext_lazy("Funnel administration")
admin.site.site_title = gettext_lazy("Funnel admin")


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["label", "code"]
    prepopulated_fields = {"code": ["label"]}

    def has_delete_permission(self, request, obj=None):
        # Leads and history point at reasons; retire them with "active" instead.
        return False


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "role", "is_available", "mql_capacity", "routing_weight", "last_routed_at"]
    readonly_fields = ["last_routed_at"]


# Admins type these addresses; one without a scheme is meant as https.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class TeamChatInline(admin.StackedInline):
    model = TeamChat
    can_delete = False
    formfield_overrides = URL_FIELDS
    verbose_name = gettext_lazy("chat (Slack and Microsoft Teams)")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.clean_teams_webhook_url = _clean_outbound_url("teams_webhook_url")
        return formset


def _clean_outbound_url(field):
    def clean(form):
        url = form.cleaned_data.get(field)
        if url:
            try:
                outbound.check_url(url)
            except outbound.RefusedURL as exc:
                raise forms.ValidationError(str(exc)) from None
        return url

    return clean


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    """The scoring matrix for admins; marketers edit it on its own page (same form, same checks)."""

    form = ScoringRuleForm
    list_display = ["name", "category", "points", "cap", "half_life_days", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["name"]
    radio_fields = {"category": admin.HORIZONTAL}

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    search_fields = ["name"]
    inlines = [TeamMemberInline, TeamChatInline]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "opens", "closes"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", ("opens", "closes")]}),
        (
            gettext_lazy("Working days"),
            {"fields": [("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]},
        ),
    ]
    inlines = [HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_default", "is_active", "source", "priority", "window", "business_hours"]
    list_filter = ["is_active", "is_default"]
    ordering = ["position", "id"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active", "is_default"]}),
        (gettext_lazy("Applies to"), {"fields": ["source", "priority"]}),
        (gettext_lazy("Response window"), {"fields": ["response_minutes", "business_hours"]}),
        (
            gettext_lazy("Escalation"),
            {"fields": ["notify_owner", "notify_managers", "reassign_on_breach", "reassign_after_minutes"]},
        ),
    ]

    @admin.display(description=gettext_lazy("window"))
    def window(self, obj):
        return obj.describe_window()

    def has_delete_permission(self, request, obj=None):
        # Leads keep the policy they were promised; the default must always exist.
        return obj is None or not obj.is_default

    def delete_queryset(self, request, queryset):
        if queryset.filter(is_default=True).exists():
            self.message_user(request, gettext("The default policy cannot be deleted."), messages.ERROR)
            return
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived and historical records: shown, never changed here.

    A lead changes through the product's own pages and API (``leads.transitions``),
    which record history, bump the version and rescore; the admin would do none of it.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["name", "email", "company", "stage", "owner", "team", "score", "mql_at", "sla_due_at"]
    list_filter = ["stage", "team", "source", "priority"]
    search_fields = ["name", "email", "company"]
    list_select_related = ["owner", "team"]
    date_hierarchy = "created_at"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        subtitle = gettext("Change a lead on its page in Funnel ('View on site').")
        extra_context = {**(extra_context or {}), "subtitle": subtitle}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "lead", "kind", "actor", "from_stage", "to_stage", "reason"]
    list_filter = ["kind"]
    list_select_related = ["lead", "actor", "reason"]
    search_fields = ["lead__name", "lead__email", "note"]
    date_hierarchy = "at"


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "lead", "kind", "actor"]
    list_filter = ["kind"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead"]


@admin.register(MqlEpisode)
class MqlEpisodeAdmin(ReadOnlyAdmin):
    list_display = ["lead", "number", "owner", "mql_at", "due_at", "accepted_at", "qualified_at", "rejected_at"]
    list_select_related = ["lead", "owner"]
    date_hierarchy = "mql_at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "to_email", "lead", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["lead"]
    search_fields = ["to_email", "lead__name"]
    date_hierarchy = "created_at"


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdmin):
    list_display = ["at", "lead", "source", "recorded_by"]
    list_filter = ["source"]
    list_select_related = ["lead", "recorded_by"]
    date_hierarchy = "at"


class ReleaseAddressForm(forms.Form):
    address = forms.EmailField(
        label=gettext_lazy("Address"),
        help_text=gettext_lazy("The e-mail address of the person who came back and consented anew."),
    )


@admin.register(ErasedAddress)
class ErasedAddressAdmin(ReadOnlyAdmin):
    """Erased addresses are only digests: an admin releases one by typing the address it was made from."""

    list_display = ["erased_at", "digest"]
    date_hierarchy = "erased_at"
    change_list_template = "admin/leads/erasedaddress/change_list.html"

    def get_urls(self):
        release = self.admin_site.admin_view(self.release_view)
        return [path("release/", release, name="leads_erasedaddress_release"), *super().get_urls()]

    def release_view(self, request):
        if not request.user.has_perm("leads.delete_erasedaddress"):
            raise PermissionDenied
        form = ReleaseAddressForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            address = form.cleaned_data["address"]
            if privacy.release_address(address):
                self.message_user(
                    request,
                    gettext("Released %(address)s: it can be created or imported again.") % {"address": address},
                )
                return redirect("admin:leads_erasedaddress_changelist")
            form.add_error(
                "address", gettext("This address was not erased (or was erased under a key no longer listed).")
            )
        context = {**self.admin_site.each_context(request), "form": form, "title": gettext("Release an erased address")}
        return TemplateResponse(request, "admin/leads/erasedaddress/release.html", context)


class WebhookSubscriptionForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "event_types", "is_active"]

    clean_url = _clean_outbound_url("url")


class ReplayRangeForm(forms.Form):
    start = forms.DateTimeField(label=gettext_lazy("Start"))
    end = forms.DateTimeField(label=gettext_lazy("End"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Typed times are read in the admin's own time zone (funnelapp.middleware.UserLocale activates it).
        zone = timezone.get_current_timezone_name()
        for field in self.fields.values():
            field.help_text = gettext("YYYY-MM-DD HH:MM, time zone %(zone)s") % {"zone": zone}

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError(gettext("The end must be after the start."))
        return data


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    formfield_overrides = URL_FIELDS
    list_display = ["url", "types", "is_active", "pending", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["created_by", "created_at", "failing_since", "disabled_at", "disabled_reason", "replay"]

    def get_queryset(self, request):
        pending = Q(deliveries__delivered_at__isnull=True, deliveries__failed_at__isnull=True)
        return super().get_queryset(request).annotate(pending_count=Count("deliveries", filter=pending))

    @admin.display(description=gettext_lazy("event types"))
    def types(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description=gettext_lazy("pending deliveries"), ordering="pending_count")
    def pending(self, obj):
        return obj.pending_count

    @admin.display(description=gettext_lazy("replay"))
    def replay(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:leads_webhooksubscription_replay", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Send the events of a time range again"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        elif "is_active" in form.changed_data and obj.is_active:
            obj.failing_since = obj.disabled_at = None
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)
        if not change:
            self.message_user(
                request,
                gettext("Signing secret, shown this once (the receiver verifies signatures with it): %(secret)s")
                % {"secret": obj.secret},
                messages.WARNING,
            )

    def get_urls(self):
        replay = self.admin_site.admin_view(self.replay_view)
        return [path("<int:pk>/replay/", replay, name="leads_webhooksubscription_replay"), *super().get_urls()]

    def replay_view(self, request, pk):
        subscription = get_object_or_404(WebhookSubscription, pk=pk)
        if not self.has_change_permission(request, subscription):
            return redirect("admin:index")
        form = ReplayRangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            queued = webhooks.replay_range(subscription, **form.cleaned_data)
            message = ngettext(
                "%(count)s event queued again for %(url)s.", "%(count)s events queued again for %(url)s.", queued
            ) % {"count": queued, "url": subscription.url}
            self.message_user(request, message, messages.SUCCESS)
            return redirect("admin:leads_webhooksubscription_change", pk)
        title = gettext("Replay events to %(url)s") % {"url": subscription.url}
        context = {**self.admin_site.each_context(request), "title": title}
        context.update(form=form, subscription=subscription, opts=self.model._meta)
        return render(request, "admin/leads/webhook_replay.html", context)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "status_code", "latency_ms", "response_excerpt", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["webhook_id", "subscription", "event", "status", "attempts", "next_attempt_at", "last_status"]
    list_filter = [
        "subscription",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["subscription", "event"]
    raw_id_fields = ["event"]
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    @admin.action(description=gettext_lazy("Send the selected deliveries again (same webhook-id)"))
    def replay_selected(self, request, queryset):
        for delivery in queryset:
            webhooks.replay_delivery(delivery)
        count = queryset.count()
        message = ngettext("%(count)s delivery queued again.", "%(count)s deliveries queued again.", count) % {
            "count": count
        }
        self.message_user(request, message, messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # Viewing and the replay action; nothing is edited by hand.
        return request.method != "POST" or obj is None


@admin.register(SlackIdentity)
class SlackIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "slack_user_id", "email", "linked_at"]
    search_fields = ["user__username", "email", "slack_user_id"]
    autocomplete_fields = ["user"]


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "quiet_from", "quiet_until"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(ChatNotice)
class ChatNoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "target", "lead", "team", "addressee", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", "target", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["lead", "team", "addressee"]
    date_hierarchy = "created_at"


@admin.register(FreeMailDomain)
class FreeMailDomainAdmin(admin.ModelAdmin):
    """The free-mail list: an address at one of these names no company (leads.accounts).

    A change applies to leads created or edited from then on; ``manage.py backfill_accounts``
    matches the existing ones again.
    """

    list_display = ["domain"]
    search_fields = ["domain"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Accounts are made by matching leads; an admin may give one a better name."""

    list_display = ["name", "domain", "created_at"]
    search_fields = ["name", "domain"]
    fields = ["name", "domain", "created_at"]
    readonly_fields = ["domain", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.company_key = accounts.company_key(obj.name)
        super().save_model(request, obj, form, change)
