from django.contrib import admin, messages

from . import user_admin  # noqa: F401  (registers the users' admin: deactivate, never delete)
from .models import (
    Activity,
    BusinessHours,
    Holiday,
    Lead,
    LeadEvent,
    MqlEpisode,
    OutboxMessage,
    RejectionReason,
    SLAPolicy,
    Team,
    TeamMember,
)

admin.site.site_header = "Funnel administration"
admin.site.site_title = "Funnel admin"


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
    fields = ["user", "role", "is_available", "mql_capacity", "last_routed_at"]
    readonly_fields = ["last_routed_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    search_fields = ["name"]
    inlines = [TeamMemberInline]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "opens", "closes"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", ("opens", "closes")]}),
        ("Working days", {"fields": [("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]}),
    ]
    inlines = [HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_default", "is_active", "source", "priority", "window", "business_hours"]
    list_filter = ["is_active", "is_default"]
    ordering = ["position", "id"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active", "is_default"]}),
        ("Applies to", {"fields": ["source", "priority"]}),
        ("Response window", {"fields": ["response_minutes", "business_hours"]}),
        ("Escalation", {"fields": ["notify_owner", "notify_managers", "reassign_on_breach", "reassign_after_minutes"]}),
    ]

    @admin.display(description="window")
    def window(self, obj):
        return obj.describe_window()

    def has_delete_permission(self, request, obj=None):
        # Leads keep the policy they were promised; the default must always exist.
        return obj is None or not obj.is_default

    def delete_queryset(self, request, queryset):
        if queryset.filter(is_default=True).exists():
            self.message_user(request, "The default policy cannot be deleted.", messages.ERROR)
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
        extra_context = {**(extra_context or {}), "subtitle": "Change a lead on its page in Funnel ('View on site')."}
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
