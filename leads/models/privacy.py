"""What erasure and opt-out leave behind: keyed hashes of erased addresses, and opt-out records.

Neither holds anything that names a person: an erased address survives only as an
HMAC under a key of the installation's (``leads.privacy``), and an opt-out record
says when, how and through whom a lead opted out, not who the person was.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .leads import Lead


class ErasedAddress(models.Model):
    """The keyed hash of an e-mail address whose person was erased, so it is not created or imported again by accident."""

    # HMAC-SHA256 of the normalised address, hex; see leads.privacy.address_digests.
    digest = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = gettext_lazy("erased addresses")

    def __str__(self):
        return gettext("an address erased on %(date)s") % {"date": f"{self.erased_at:%Y-%m-%d}"}


class OptOut(models.Model):
    """A lead's opt-out from marketing: when, how it reached us and who recorded it."""

    class Source(models.TextChoices):
        UNSUBSCRIBE_LINK = "unsubscribe_link", gettext_lazy("Unsubscribe link")
        EMAIL_REQUEST = "email_request", gettext_lazy("E-mail or letter from the person")
        DPO_REQUEST = "dpo_request", gettext_lazy("Request to the data protection officer")
        CONVERSATION = "conversation", gettext_lazy("Said so in a conversation with sales")
        INTEGRATION = "integration", gettext_lazy("Reported by an integration (API)")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="opt_outs", db_index=False)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = gettext_lazy("opt-out")
        indexes = [
            # A lead's opt-outs, on its page and in its export.
            models.Index(fields=["lead", "at"], name="optout_lead_at_idx"),
        ]

    def __str__(self):
        return gettext("Lead %(lead)s opted out (%(source)s) on %(date)s") % {
            "lead": self.lead_id,
            "source": self.get_source_display(),
            "date": f"{self.at:%Y-%m-%d}",
        }
