"""The audit log's tables refuse TRUNCATE too, and start with a baseline of today's configuration."""

from django.db import migrations

from leads.migrations._audit_guard import guard_and_baseline, unguard

# event table -> the table it tracks
TRACKED = {
    "leads_slapolicyevent": "leads_slapolicy",
    "leads_businesshoursevent": "leads_businesshours",
    "leads_holidayevent": "leads_holiday",
    "leads_scoringruleevent": "leads_scoringrule",
    "leads_scoringconfigevent": "leads_scoringconfig",
    "leads_rejectionreasonevent": "leads_rejectionreason",
    "leads_erasedaddressevent": "leads_erasedaddress",
    "leads_teamevent": "leads_team",
    "leads_teammemberevent": "leads_teammember",
    "leads_userevent": "auth_user",
    "leads_groupevent": "auth_group",
    "leads_userroleevent": "auth_user_groups",
    "leads_userpermissionevent": "auth_user_user_permissions",
    "leads_rolepermissionevent": "auth_group_permissions",
}


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0027_audit_log"),
    ]

    operations = [migrations.RunPython(guard_and_baseline("leads", TRACKED), unguard(TRACKED))]
