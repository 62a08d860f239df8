"""Accounts (the companies leads work at) and the free-mail domains that say nothing about one."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Account(models.Model):
    """A company, known by the registrable domain of its people's e-mail addresses.

    Made by ``leads.accounts`` when a lead arrives from a domain not seen before;
    leads from free-mail addresses join an account whose normalised name equals
    their company's, or none.
    """

    name = models.CharField(max_length=200)
    # The registrable domain ("acme.co.uk" for "sales.acme.co.uk"), lower case.
    domain = models.CharField(max_length=253, unique=True)
    # ``leads.accounts.company_key`` of the name: free-mail leads are matched on it.
    company_key = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Matching a free-mail lead by its company's name.
            models.Index(fields=["company_key"], name="account_company_key_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.domain})"

    def get_absolute_url(self):
        return reverse("leads:account", args=[self.pk])


class FreeMailDomain(models.Model):
    """A mailbox provider anyone can sign up with: its domain names no company.

    Seeded from ``leads/data/free_mail_domains.txt`` by migration 0080; admins add
    and remove domains in the admin.
    """

    domain = models.CharField(max_length=253, unique=True, help_text=gettext_lazy("e.g. gmail.com (lower case, no @)"))

    class Meta:
        ordering = ["domain"]
        verbose_name = gettext_lazy("free-mail domain")

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().lstrip("@")
        super().save(*args, **kwargs)
