"""The bad rows of an import: as CSV for a download, or as lines for the command line."""

import csv

from django.utils.translation import gettext, pgettext

from ..models import ImportRowError


class _Echo:
    def write(self, value):
        return value


def error_report_csv(job):
    """Yield the job's bad rows as CSV text lines (line, reason, row), header first; raises nothing."""
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            pgettext("bad rows file column", "line"),
            pgettext("bad rows file column", "reason"),
            pgettext("bad rows file column", "row"),
        ]
    )
    rows = ImportRowError.objects.filter(job=job).order_by("line", "id").values_list("line", "reason", "raw")
    for line, reason, raw in rows.iterator(chunk_size=2000):
        # A spreadsheet would run a row starting with "=" (or +, -, @) as a formula.
        yield writer.writerow([line, reason, "'" + raw if raw.startswith(("=", "+", "-", "@")) else raw])


def error_report_text(job, *, limit=10):
    """Return the first ``limit`` bad rows as "line N: reason" lines; raises nothing."""
    rows = ImportRowError.objects.filter(job=job).order_by("line", "id").values_list("line", "reason")[:limit]
    return [gettext("line %(line)s: %(reason)s") % {"line": line, "reason": reason} for line, reason in rows]
