"""A user's language and time zone: what every page, e-mail and report shows them in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .sla import validate_time_zone


class UserProfile(models.Model):
    """One per user, made on first need. Blank language: the browser's; blank time zone: not yet known
    (the browser's is saved at the next page view, UTC meanwhile)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: the language your browser asks for."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Every time Funnel shows you, e-mails included, is in this zone."),
    )

    class Meta:
        verbose_name = _("user profile")

    def __str__(self):
        return _("Profile of %(user)s") % {"user": self.user}

    @property
    def zone_name(self):
        return self.time_zone or "UTC"


def profile_of(user):
    """``user``'s saved profile, or an unsaved blank one (reads ``user.profile`` if loaded); raises nothing."""
    if user is None or not getattr(user, "pk", None):
        return UserProfile()
    try:
        return user.profile
    except UserProfile.DoesNotExist:
        return UserProfile(user=user)


def language_of(user):
    """The language of what ``user`` alone reads outside a request (an e-mail, a chat message, an import's
    reasons): their profile's, else the site's; raises nothing."""
    return profile_of(user).language or settings.LANGUAGE_CODE


def zone_name_of(user):
    """The IANA name of ``user``'s time zone, UTC until known; raises nothing."""
    return profile_of(user).zone_name
