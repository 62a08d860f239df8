"""Import leads from a CSV file: map the columns, validate every row, import the good ones in batches.

The upload page and ``manage.py import_leads`` use the same functions:

- ``read_header(fileobj)`` and ``suggest_mapping(header)``: the mapping step;
- ``start_import(uploaded_file, by=..., mapping=...)``: check and store the file, queue the job;
- ``run_import(job_id)``: the work of ``tasks.import_leads_task``; progress is on the
  ImportJob (``percent``, ``rows_seen``, ``created_count``, ``updated_count``,
  ``failed_count``; rows that changed nothing are ``rows_seen`` minus the other three);
- ``error_report_csv(job)``: every bad row with its line and reason, as CSV for a download.

What a user can rely on:

- Text: UTF-8, with or without a byte-order mark. Each line is decoded on its own, so a
  row whose bytes are not UTF-8 (a legacy Windows-1252 export, a damaged line) is
  reported as a bad row and the rest of the file imports. A header that is not UTF-8
  refuses the whole file. Comma, semicolon, tab or pipe separate the columns, whichever
  the header uses most (Excel writes semicolons in many European locales).
- Identity is the e-mail address, case-insensitively. A row whose e-mail is already in
  Funnel updates that lead: non-empty cells overwrite its fields, empty cells change
  nothing, and its stage, owner and history stay as they are (a changed score is
  recorded like any other). A new e-mail creates a lead in stage ``lead`` with a
  ``created`` event, scored at once; a lead that reaches the MQL threshold is promoted
  after its batch is committed.
- Within the file the first row with an e-mail address counts; a later row with the
  same address, in any case, is reported as a duplicate of that line.
- Line numbers are lines of the file (the header is line 1); a row with several
  problems is reported once with all of them.
- Each batch of rows (new leads, updates, their events and scores, its bad rows and
  the job's progress) is one transaction, so a crash never leaves half a batch; a job
  run again continues after the last committed batch, and two runs of one job at once
  import each row once.
The code, in the order a file goes through it:

- ``reading``: sniff the header and delimiter, map columns to fields, read records line by line;
- ``cleaning``: validate one row's cells into lead field values, remember e-mail addresses seen;
- ``jobs``: ``start_import`` and ``run_import``, the job's life from upload to done or failed;
- ``batches``: turn good rows into new and updated leads, one transaction a batch;
- ``writing``: the set-wise SQL (COPY on PostgreSQL) and the writer thread;
- ``reports``: the bad rows, for a download or the command line.
"""

from .cleaning import validate_email
from .jobs import BATCH_SIZE, run_import, start_import
from .reading import MAPPING_CHOICES, ImportRefused, read_header, suggest_mapping
from .reports import error_report_csv, error_report_text

__all__ = [
    "BATCH_SIZE",
    "MAPPING_CHOICES",
    "ImportRefused",
    "error_report_csv",
    "error_report_text",
    "read_header",
    "run_import",
    "start_import",
    "suggest_mapping",
    "validate_email",
]
