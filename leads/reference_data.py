"""Rows every installation needs: the four roles and the standard rejection reasons.

Used by migration 0002 (with historical models), by ``seed_demo`` and by tests
that flush the database. Each function is idempotent.
"""

from django.utils.translation import gettext_noop

# Django model permissions per role, for the admin site and any permission-based
# check; the product's own rules live in leads.access.
ROLE_PERMISSIONS = {
    "rep": ["view_lead", "view_leadevent", "view_activity", "add_activity", "view_rejectionreason"],
    "manager": [
        "view_lead",
        "change_lead",
        "view_leadevent",
        "view_activity",
        "add_activity",
        "view_rejectionreason",
        "view_team",
        "view_teammember",
        "change_teammember",
    ],
    "marketer": [
        "view_lead",
        "add_lead",
        "change_lead",
        "view_leadevent",
        "view_activity",
        "add_activity",
        "view_rejectionreason",
        "view_team",
    ],
    "admin": None,  # every permission of the leads app plus users and groups
}

# The labels are English; pages show them through the |translated filter (leads_ui), which
# gives the German of these standard ones and leaves a reason an admin named as it was typed.
REASONS = [
    ("missing-phone", gettext_noop("Missing phone number")),
    ("personal-email", gettext_noop("Personal e-mail address")),
    ("no-budget", gettext_noop("No budget")),
    ("not-decision-maker", gettext_noop("Not a decision maker")),
    ("student-job-seeker", gettext_noop("Student / job seeker")),
    ("competitor", gettext_noop("Competitor")),
    ("duplicate", gettext_noop("Duplicate")),
    ("wrong-region", gettext_noop("Outside our sales region")),
    ("company-too-small", gettext_noop("Company too small")),
    ("bad-contact-data", gettext_noop("Invalid or fake contact data")),
    ("no-interest", gettext_noop("No interest / no project")),
]


def ensure_roles(Group, Permission):
    """Create the role groups with their permissions if missing; raises nothing."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if codenames is None:
            perms = Permission.objects.filter(content_type__app_label__in=["leads", "auth"])
        else:
            perms = Permission.objects.filter(content_type__app_label="leads", codename__in=codenames)
        group.permissions.set(perms)


def ensure_reasons(RejectionReason):
    """Create the standard rejection reasons if missing, leaving edited ones alone; raises nothing."""
    for position, (code, label) in enumerate(REASONS, start=1):
        RejectionReason.objects.get_or_create(code=code, defaults={"label": label, "position": position * 10})


DEFAULT_POLICY_NAME = gettext_noop("Default: answer within 1 hour")


def ensure_default_policy(SLAPolicy):
    """Create the default SLA policy (1 hour, round the clock) unless a default exists; raises nothing."""
    if not SLAPolicy.objects.filter(is_default=True).exists():
        SLAPolicy.objects.get_or_create(
            name=DEFAULT_POLICY_NAME,
            defaults={"is_default": True, "response_minutes": 60, "position": 1000},
        )
