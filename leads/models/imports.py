"""CSV import jobs and their bad rows."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy


class ImportJob(models.Model):
    """A CSV file of leads being imported in the background, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    # CSV column -> lead field, chosen on the upload page; empty means "by header name".
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress: bytes of the file read so far, for a bar that needs no row count up front.
    total_bytes = models.PositiveBigIntegerField(default=0)
    processed_bytes = models.PositiveBigIntegerField(default=0)
    rows_seen = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # The last line of the file whose batch was committed; a restarted job resumes after it.
    committed_line = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return gettext("Import %(id)s of %(file)s (%(status)s)") % {
            "id": self.pk,
            "file": self.original_name,
            "status": self.get_status_display(),
        }

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.total_bytes:
            return 0
        return min(99, int(100 * self.processed_bytes / self.total_bytes))

    @property
    def unchanged_count(self):
        """Rows of a lead that already held every value they carried."""
        return max(0, self.rows_seen - self.created_count - self.updated_count - self.failed_count)


class ImportRowError(models.Model):
    """One rejected row of an import: its line number, why, and what it said."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    reason = models.TextField()
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="importrowerror_job_line_idx")]

    def __str__(self):
        return gettext("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


class ImportRowFate(models.Model):
    """What became of one row of an import: the lead it created, updated or left unchanged, or why it was bad."""

    class Fate(models.TextChoices):
        CREATED = "created", gettext_lazy("Created")
        UPDATED = "updated", gettext_lazy("Updated")
        UNCHANGED = "unchanged", gettext_lazy("Unchanged")
        BAD = "bad", gettext_lazy("Bad")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_fates", db_index=False)
    line = models.PositiveIntegerField()
    fate = models.CharField(max_length=10, choices=Fate.choices)
    # No foreign key: a bulk insert of a batch's fates checks no lead, and an erased lead keeps its row.
    lead_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "line", "id"]
        # The import's rows page: a job's rows in line order, a keyset page at a time (after a line).
        indexes = [models.Index(fields=["job", "line"], name="importrowfate_job_line_idx")]

    def __str__(self):
        return gettext("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.fate}
