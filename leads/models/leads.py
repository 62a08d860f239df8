"""The lead and its MQL episodes (the projection reports count)."""

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .accounts import Account
from .choices import Priority, Stage
from .sla import SLAPolicy
from .teams import RejectionReason, Team


def search_text():
    """What lead search reads: name, e-mail and company in one text, the expression lead_search_trgm_idx indexes."""
    return Concat("name", Value(" "), "email", Value(" "), "company", output_field=TextField())


# What people call a lead's fields, in their language (the model's own verbose names are Django's
# defaults from the field names, kept so no migration follows a wording change).
FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "company_size": gettext_lazy("Company size"),
    "country": gettext_lazy("Country"),
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
    "priority": gettext_lazy("Priority"),
    "stage": gettext_lazy("Stage"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "score": gettext_lazy("Score"),
    "account": gettext_lazy("Account"),
}


class LeadQuerySet(models.QuerySet):
    def matching(self, query):
        """Leads whose name, e-mail or company contain ``query``, or a word close to it (a typo, a partial word)."""
        # A case-insensitive regex of the escaped query rather than icontains: Django writes that as
        # UPPER(...) LIKE, which the trigram index on the plain text cannot answer; ~* it can.
        text = search_text()
        return self.alias(search=text).filter(
            Q(search__iregex=re.escape(query)) | Q(search__trigram_word_similar=query)
        )

    def open_mqls(self):
        return self.filter(stage=Stage.MQL)

    def awaiting_response(self):
        return self.filter(stage=Stage.MQL, first_follow_up_at__isnull=True)

    def overdue(self, now):
        return self.awaiting_response().filter(sla_due_at__lte=now)

    def breached(self, now):
        """MQLs whose response SLA is breached: flagged by the sweep, or past due with no follow-up yet."""
        flagged = Q(sla_breached_at__isnull=False)
        past_due = Q(first_follow_up_at__isnull=True, sla_due_at__lte=now)
        return self.filter(flagged | past_due, stage=Stage.MQL)

    def owned_by(self, user):
        return self.filter(owner=user)


class Lead(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    # As given ("51-200", "10k+"); the range is read from it by leads.company_sizes.
    company_size = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text=gettext_lazy("Number of employees or a range, e.g. 250, 51-200, 10k+"),
    )
    company_size_low = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # NULL with a low end: open-ended ("5000+").
    company_size_high = models.PositiveIntegerField(null=True, blank=True, editable=False)
    country = models.CharField(max_length=2, blank=True, help_text=gettext_lazy("ISO 3166-1 alpha-2 code"))
    source = models.CharField(max_length=60, blank=True, help_text=gettext_lazy("e.g. webinar, organic, paid-search"))
    campaign = models.CharField(max_length=120, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)

    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.LEAD)
    # Both are the leading columns of composite indexes below; no separate index.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    score = models.IntegerField(default=0)
    # Bumped by every write through leads.transitions; a conditional UPDATE on it
    # makes exactly one of two concurrent actions win.
    version = models.PositiveIntegerField(default=0)
    # Counts MQL episodes: a recycled lead that becomes an MQL again starts a new one.
    mql_episode = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Milestones of the current episode; the full story is in LeadEvent.
    mql_at = models.DateTimeField(null=True, blank=True)
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # SLA: due time of the response window and the moment a breach was flagged.
    sla_policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # The transaction that last gave this MQL its due time, or made it await a response
    # unflagged again (a full transaction id, with epoch). Written only by the database
    # (triggers of migration 0044), read only by the SLA sweep: a lead whose due time
    # lands behind the sweep's mark is found again by this stamp (see leads.sla).
    sla_due_xid = models.BigIntegerField(null=True, blank=True, editable=False)
    # Privacy: when the person opted out of marketing (the latest OptOut), and when their
    # personal data was erased (leads.transitions.erase_lead); the funnel facts stay.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # When a quarter of the response window is left (business time); the risk sweep
    # clears it once it has sent the notice, so it is set only while one is pending.
    sla_risk_at = models.DateTimeField(null=True, blank=True)
    # The company, matched by the e-mail's registrable domain (leads.accounts). Indexed
    # as the leading column of lead_account_stage_idx.
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    # Duplicate keys (leads.duplicates): the e-mail without case, +tag and Gmail's dots,
    # and the phone in E.164; empty when there is none or it cannot be read.
    # Defaults in the database too, so writers by COPY may leave them out.
    email_normalised = models.CharField(max_length=254, blank=True, editable=False, db_default="")
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False, db_default="")
    # Earlier leads this one may duplicate, found when it arrived or was edited.
    # The lead this one was merged into (its stage is then "merged"); cleared by unmerging.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_leads", editable=False
    )
    possible_duplicates = ArrayField(
        models.BigIntegerField(),
        blank=True,
        editable=False,
        db_default=models.Value([], output_field=ArrayField(models.BigIntegerField())),
    )

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="lead_email_unique_ci"),
            # An MQL may wait unassigned when no rep can take it; worked stages cannot.
            models.CheckConstraint(
                condition=~Q(stage__in=["sal", "sql"]) | Q(owner__isnull=False),
                name="lead_worked_stages_have_owner",
            ),
            models.CheckConstraint(
                condition=~Q(stage="mql") | Q(mql_at__isnull=False),
                name="lead_mql_has_mql_at",
            ),
            models.CheckConstraint(
                condition=~Q(stage="rejected") | Q(rejection_reason__isnull=False),
                name="lead_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gte=F("mql_at")),
                name="lead_follow_up_after_mql",
            ),
            # The sweep flags a breach only once the due time has passed (sla.flag_overdue_leads), and
            # every change of the due time clears the flag: the queue's order relies on it (sla.Queue).
            models.CheckConstraint(
                condition=Q(sla_breached_at__isnull=True)
                | Q(sla_due_at__isnull=False, sla_breached_at__gte=F("sla_due_at")),
                name="lead_breach_flagged_after_due",
            ),
            # A high end needs a low end at or below it; NULL alone is open-ended.
            models.CheckConstraint(
                condition=Q(company_size_high__isnull=True)
                | Q(company_size_low__isnull=False, company_size_low__lte=F("company_size_high")),
                name="lead_company_size_range_ordered",
            ),
        ]
        indexes = [
            # Search (/leads/?q=, GET /api/leads/?q=): substrings (ILIKE) and words close to the query
            # (pg_trgm's %> operator) in name, e-mail and company.
            GinIndex(OpClass(search_text(), name="gin_trgm_ops"), name="lead_search_trgm_idx"),
            # The API's lead list (newest first, the model's ordering) and /leads/ sorted by age, a
            # keyset page at a time. Last activity and score stay unindexed: every write and every
            # rescore changes them, and an index on them would end the SLA sweep's HOT updates.
            models.Index(F("created_at").desc(), F("id").desc(), name="lead_created_idx"),
            # The rep's queue (sla.Queue): own open MQLs by due time, each of its ranges read in
            # order from the index alone. The included columns change only with the stage or at
            # the first follow-up, which are never HOT updates anyway; the breach flag stays out
            # so the sweep's claim remains one.
            models.Index(
                fields=["owner", "stage", "sla_due_at"],
                name="lead_queue_idx",
                include=["mql_at", "first_follow_up_at", "id"],
            ),
            # The queue's answered MQLs (followed up, not yet accepted or rejected): few, checked
            # for the breach flag on the table.
            models.Index(
                fields=["owner", "sla_due_at"],
                name="lead_queue_answered_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=False),
            ),
            # The manager's team views and the API's team filter.
            models.Index(fields=["team", "stage"], name="lead_team_stage_idx"),
            # The SLA sweep: open MQLs past due with no follow-up. The breach flag
            # is left out of the condition so the sweep's claim is a HOT update.
            models.Index(
                fields=["sla_due_at"],
                name="lead_awaiting_due_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=True),
            ),
            # The SLA sweep's second look: awaiting MQLs given their due time since its
            # last run's snapshot (a due time set behind its mark). Same condition as
            # lead_awaiting_due_idx, so the claim stays a HOT update.
            models.Index(
                fields=["sla_due_xid", "sla_due_at"],
                name="lead_sweep_recheck_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=True),
            ),
            # The SLA risk sweep: awaiting MQLs whose risk notice is pending.
            models.Index(
                fields=["sla_risk_at"],
                name="lead_sla_risk_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=True, sla_risk_at__isnull=False),
            ),
            # The team page's open MQLs (unassigned first, then soonest due) and the
            # breached list, a page at a time. Owner and team ride along so a
            # manager's count reads the index alone; the breach flag stays out so
            # the sweep's claim remains a HOT update.
            models.Index(
                F("sla_due_at").asc(nulls_first=True),
                F("mql_at"),
                F("id"),
                name="lead_open_mqls_idx",
                include=["owner", "team"],
                condition=Q(stage="mql"),
            ),
            # The team page's SALs, newest accepted first; a manager's count reads the index alone.
            models.Index(
                F("accepted_at").desc(),
                F("id").desc(),
                name="lead_sals_idx",
                include=["owner", "team"],
                condition=Q(stage="sal"),
            ),
            # The account page: an account's leads by stage; the routing rule "owner of an
            # open lead of the account".
            models.Index(fields=["account", "stage"], name="lead_account_stage_idx"),
            # The duplicate check at intake: the same e-mail once normalised, the same phone,
            # a close name (pg_trgm's % operator, which ignores case) at the same account.
            models.Index(
                fields=["email_normalised"], name="lead_email_normalised_idx", condition=~Q(email_normalised="")
            ),
            models.Index(fields=["phone_e164"], name="lead_phone_e164_idx", condition=~Q(phone_e164="")),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="lead_name_trgm_idx"),
            # The rejected-leads review, newest rejection first; its filters' choices
            # (sources, campaigns, reps) are read from the index alone.
            models.Index(
                F("rejected_at").desc(),
                F("id").desc(),
                name="lead_rejected_idx",
                include=["source", "campaign", "owner"],
                condition=Q(stage="rejected"),
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def get_absolute_url(self):
        return reverse("leads:detail", args=[self.pk])

    @property
    def is_awaiting_response(self):
        return self.stage == Stage.MQL and self.first_follow_up_at is None


class MqlEpisode(models.Model):
    """One MQL episode of a lead, from promotion to its outcome: what reports count.

    A projection of the lead's history kept by ``leads.transitions`` in the same
    transaction as each event. A recycled lead that becomes an MQL again starts a
    new episode, so every MQL is counted once.
    """

    class RejectedFrom(models.TextChoices):
        MQL = "mql", gettext_lazy("Rejected as MQL")
        SAL = "sal", gettext_lazy("Disqualified after acceptance")

    # Indexed as the leading column of mqlepisode_unique_number_per_lead and mqlepisode_lead_mql_at_idx.
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="episodes", db_index=False)
    number = models.PositiveIntegerField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The current owner: updated on reassignment, so per-rep numbers follow the lead.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=60, blank=True)
    campaign = models.CharField(max_length=120, blank=True)
    mql_at = models.DateTimeField()
    # The response window's end; a reassignment that restarts the clock moves it.
    due_at = models.DateTimeField(null=True, blank=True)
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_from = models.CharField(max_length=3, choices=RejectedFrom.choices, blank=True)
    rejection_reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_note = models.TextField(blank=True)
    recycled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-mql_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "number"], name="mqlepisode_unique_number_per_lead"),
            models.CheckConstraint(
                condition=Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gte=F("mql_at")),
                name="mqlepisode_follow_up_after_mql",
            ),
        ]
        indexes = [
            # Period reports: MQLs created in a date range.
            models.Index(fields=["mql_at"], name="mqlepisode_mql_at_idx"),
            # Period conversions: SALs, SQLs and rejections in a date range.
            models.Index(fields=["accepted_at"], name="mqlepisode_accepted_at_idx"),
            models.Index(fields=["qualified_at"], name="mqlepisode_qualified_at_idx"),
            models.Index(fields=["rejected_at"], name="mqlepisode_rejected_at_idx"),
            # Per-rep and per-team breakdowns.
            models.Index(fields=["owner", "mql_at"], name="mqlepisode_owner_mql_idx"),
            models.Index(fields=["team", "mql_at"], name="mqlepisode_team_mql_idx"),
            # Conversation rate: had this lead an episode by its first contact? Answered
            # from the index alone, once per contacted lead.
            models.Index(fields=["lead", "mql_at"], name="mqlepisode_lead_mql_at_idx"),
            # Reports read from the rollup (reports.EpisodeRollup) only as of an instant no
            # event lies after: the latest follow-up, from the index's end.
            models.Index(fields=["first_follow_up_at"], name="mqlepisode_follow_up_idx"),
            # The rollup's awaiting MQLs: unanswered, with a window still open (or none).
            models.Index(
                fields=["due_at"], condition=Q(first_follow_up_at__isnull=True), name="mqlepisode_unanswered_due_idx"
            ),
        ]

    def __str__(self):
        return gettext("MQL episode %(number)s of lead %(lead)s") % {"number": self.number, "lead": self.lead_id}
