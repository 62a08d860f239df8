"""The Django admin's users: anyone who appears in the history is deactivated, never deleted.

The history is append-only and keeps who acted and who owned the lead; deleting such
a user used to fail in the database (a 500). The admin now lists each such user as
protected on its delete page, says why and to untick "Active" instead, and offers a
"Deactivate" action.

Deactivating a user, by the action or by unticking "Active", hands their open MQLs
and SALs on to the reps routing picks (``leads.jobs.hand_on_leads``), each with its
routing decision in the history. Their out-of-office periods are edited here too.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from . import jobs
from .models import Activity, Lead, LeadEvent, MqlEpisode, OutboxMessage, OutOfOffice

User = get_user_model()


def users_with_history(users):
    """The ids of ``users`` who appear in the history, own a lead or an episode, logged an activity or were e-mailed."""
    ids = [user.pk for user in users]
    found = set()
    for model, fields in (
        (LeadEvent, ("actor", "owner")),
        (Lead, ("owner",)),
        (MqlEpisode, ("owner",)),
        (Activity, ("actor",)),
        (OutboxMessage, ("recipient",)),
    ):
        for field in fields:
            left = set(ids) - found
            if not left:
                return found
            found |= set(
                model.objects.filter(Q(**{f"{field}__in": left})).values_list(field, flat=True).distinct().order_by()
            )
    return found


def why_kept(user):
    return (
        f"{user.get_username()} appears in the history of leads, which keeps every actor and owner: "
        "this account cannot be deleted. Deactivate it instead (untick 'Active', or the 'Deactivate' action)."
    )


admin.site.unregister(User)


class OutOfOfficeInline(admin.TabularInline):
    model = OutOfOffice
    extra = 0
    fields = ["starts_at", "ends_at", "note", "hand_on", "handed_on_at"]
    readonly_fields = ["handed_on_at"]


@admin.register(User)
class FunnelUserAdmin(UserAdmin):
    actions = ["deactivate"]
    inlines = [*UserAdmin.inlines, OutOfOfficeInline]

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            self._hand_on(request, [obj])

    def _hand_on(self, request, users):
        for user in users:
            moved, left = jobs.hand_on_leads(user, by=request.user)
            if moved or left:
                text = f"{user}: {moved} open lead{'s' if moved != 1 else ''} handed on"
                if left:
                    text += f"; {left} kept, no rep of their team can take them now (reassign them by hand)"
                self.message_user(request, text + ".", messages.WARNING if left else messages.SUCCESS)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        kept = users_with_history(objs)
        if kept:
            # Shown instead of the objects the admin may not delete (leads, episodes), which say nothing of why.
            return deleted, counts, set(), [why_kept(user) for user in objs if user.pk in kept]
        return deleted, counts, perms_needed, protected

    @admin.action(description="Deactivate the selected users (they keep their history)")
    def deactivate(self, request, queryset):
        users = list(queryset.filter(is_active=True))
        count = queryset.filter(pk__in=[user.pk for user in users]).update(is_active=False)
        self.message_user(request, f"Deactivated {count} user{'s' if count != 1 else ''}.", messages.SUCCESS)
        self._hand_on(request, users)
