from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from . import access


def roles(request):
    """Expose the user's roles to templates so navigation shows what they may use."""
    # No user on a request refused before the session was read (funnelapp.middleware, Django's 400 for a huge body).
    user = getattr(request, "user", None)
    user_roles = access.roles_of(user)
    return {
        "user_roles": user_roles,
        "is_rep": access.REP in user_roles,
        "is_manager": access.MANAGER in user_roles or access.ADMIN in user_roles,
        "is_marketer": access.MARKETER in user_roles or access.ADMIN in user_roles,
        "is_admin": access.ADMIN in user_roles,
        # Counted only if a template shows it (the managers' navigation); pages
        # that list the breached leads put their own count in the context instead.
        "breached_count": SimpleLazyObject(lambda: _capped_breached_count(user)),
    }


NAV_COUNT_CAP = 100


def _capped_breached_count(user):
    """At most NAV_COUNT_CAP: counting 100,000 breached MQLs on every page costs a table scan."""
    # Unordered, so the database stops at the cap instead of sorting every breach first.
    count = access.visible_leads(user).breached(timezone.now()).order_by()[:NAV_COUNT_CAP].count()
    return f"{NAV_COUNT_CAP - 1}+" if count >= NAV_COUNT_CAP else count
