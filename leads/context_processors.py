from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from . import access


def roles(request):
    """Expose the user's roles to templates so navigation shows what they may use."""
    user_roles = access.roles_of(request.user)
    return {
        "user_roles": user_roles,
        "is_rep": access.REP in user_roles,
        "is_manager": access.MANAGER in user_roles or access.ADMIN in user_roles,
        "is_marketer": access.MARKETER in user_roles or access.ADMIN in user_roles,
        "is_admin": access.ADMIN in user_roles,
        # Counted only if a template shows it (the managers' navigation); pages
        # that list the breached leads put their own count in the context instead.
        "breached_count": SimpleLazyObject(lambda: access.visible_leads(request.user).breached(timezone.now()).count()),
    }
