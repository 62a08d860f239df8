"""Django's model backend, reading the user's profile in the same query as the user.

Every page needs the signed-in user's language and time zone (funnelapp.middleware.UserLocale);
a LEFT JOIN on the session's user query gives them without a query of their own.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ModelBackendWithProfile(ModelBackend):
    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("profile").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
