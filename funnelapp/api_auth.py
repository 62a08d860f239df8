"""DRF's token authentication, then the token user's language.

A page's user is known before the view runs (funnelapp.middleware.UserLocale reads their profile);
an API client's token is read by DRF inside the view. Once it is, the answer's sentences follow the
token user's profile language as a page would; without one there, the Accept-Language's. Times stay
in UTC for token clients: integrations read them as data, the same whoever's token they hold.
"""

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django.utils.translation import gettext_lazy
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from leads.access import ROLES, remember_roles

from .middleware import activate_profile


class TokenAuthenticationWithProfile(TokenAuthentication):
    def authenticate_credentials(self, key):
        # DRF's, with the profile and the user's role groups read in the same query as the token
        # and its user: every API view checks the roles next (leads.access.roles_of).
        model = self.get_model()
        try:
            token = (
                model.objects.select_related("user", "user__profile")
                .annotate(_roles=ArrayAgg("user__groups__name", filter=Q(user__groups__name__in=ROLES), default=[]))
                .get(key=key)
            )
        except model.DoesNotExist:
            raise AuthenticationFailed(gettext_lazy("Invalid token.")) from None
        if not token.user.is_active:
            raise AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        remember_roles(token.user, token._roles)
        return token.user, token

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            from leads.models.profiles import profile_of

            activate_profile(request, profile_of(found[0]), zone=False)
        return found
