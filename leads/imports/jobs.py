"""An import job's life: the upload checked and stored, then run (and resumed) until done or failed."""

import logging
import os

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext

from .. import access, background
from ..models import ImportJob
from ..models.profiles import language_of
from .batches import ClaimLost, Importer
from .reading import ImportRefused, column_plan, sniff, suggest_mapping

log = logging.getLogger(__name__)

BATCH_SIZE = 2000


# Starting an import


def start_import(uploaded_file, *, by, mapping=None, queue=True):
    """Check and store an uploaded CSV file and queue its import (after commit); returns the ImportJob, raises ImportRefused.

    ``by`` None is the system (the management command without --user). ``mapping``
    is ``{column: field}``; None maps the columns by their names. ``queue=False``
    stores the job without handing it to the worker (the caller runs it).
    """
    if by is not None and not access.can_create_leads(by):
        raise ImportRefused(gettext("Only marketers and admins may import leads."))
    if not isinstance(uploaded_file, File):
        uploaded_file = File(uploaded_file, name=getattr(uploaded_file, "name", None) or "leads.csv")
    size = uploaded_file.size or 0
    if not size:
        raise ImportRefused(gettext("The file is empty."))
    limit = settings.FUNNEL_IMPORT_MAX_BYTES
    if size > limit:
        raise ImportRefused(
            gettext("The file is %(size)s; files of up to %(limit)s can be imported.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)}
        )
    header = sniff(uploaded_file)[0]
    if mapping is None:
        mapping = suggest_mapping(header)
    plan = column_plan(header, mapping)
    original_name = os.path.basename(uploaded_file.name or "") or "leads.csv"
    job = ImportJob(
        original_name=original_name[:255],
        mapping={header[index]: field for index, field in plan},
        created_by=by,
        total_bytes=size,
    )
    with transaction.atomic():
        job.file.save(original_name, uploaded_file, save=False)
        job.save()
        if queue:
            background.after_commit("leads.tasks.import_leads_task", job.pk)
    return job


def _megabytes(size):
    return gettext("%(size)s MB") % {"size": number_format(size / 1024 / 1024, 1)}


# Running an import


def run_import(job_id, *, batch_size=BATCH_SIZE, progress=None):
    """Import the job's file in batches and return the ImportJob; raises ImportRefused for an unknown job, and re-raises what stopped a run after marking the job failed.

    A queued or failed job is claimed with a conditional UPDATE; a running one is
    resumed after its last committed line (a worker died, or another run is busy:
    every batch claims its lines, so each row is imported once). A Celery soft time
    limit stops the run between batches and queues a new task to continue it.
    ``progress(job)`` is called after every committed batch.
    """
    now = timezone.now()
    ImportJob.objects.filter(pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.FAILED]).update(
        status=ImportJob.Status.RUNNING, started_at=Coalesce(F("started_at"), Value(now)), finished_at=None, error=""
    )
    job = ImportJob.objects.select_related("created_by__profile").filter(pk=job_id).first()
    if job is None:
        raise ImportRefused(f"There is no import job {job_id}.")
    if job.status != ImportJob.Status.RUNNING:
        return job
    # An import's messages and bad-row reasons are in its uploader's language.
    with translation.override(language_of(job.created_by)):
        return _run(job, batch_size=batch_size, progress=progress)


def _run(job, *, batch_size, progress):
    try:
        handle = job.file.storage.open(job.file.name, "rb")
    except OSError:
        _finish(job, ImportJob.Status.FAILED, gettext("The uploaded file is no longer available; upload it again."))
        job.refresh_from_db()
        return job
    try:
        with handle:
            Importer(job, handle, batch_size=batch_size, progress=progress).run()
    except ClaimLost:
        log.info("import %s: another run committed the next batch first; leaving the job to it", job.pk)
    except SoftTimeLimitExceeded:
        # The worker's time limit for one task: a fresh task continues after the last committed batch.
        log.info("import %s: the task's time limit is near; a new task continues it", job.pk)
        background.start("leads.tasks.import_leads_task", job.pk)
    except ImportRefused as exc:
        _finish(job, ImportJob.Status.FAILED, exc.message)
    except Exception as exc:
        try:
            _finish(job, ImportJob.Status.FAILED, (gettext("The import stopped: %(error)s") % {"error": exc})[:2000])
        except Exception:
            log.exception("import %s: could not record the failure", job.pk)
        raise
    job.refresh_from_db()
    return job


def _finish(job, status, error=""):
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now()
    )
