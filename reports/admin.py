from django.contrib import admin
from django.utils import timezone

from .models import MonthlyTarget


@admin.register(MonthlyTarget)
class MonthlyTargetAdmin(admin.ModelAdmin):
    list_display = ["month", "team", "mql_target", "updated_by", "updated_at"]
    list_filter = ["team"]
    date_hierarchy = "month"
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
