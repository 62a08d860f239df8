"""The mapping step and the file itself: sniff the header, map its columns to lead fields, read records."""

import csv
import re

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

# The lead fields a file may fill, with the header names (compared without case,
# spaces or punctuation) that map to them automatically.
LEAD_COLUMNS = {
    "name": ("name", "full name", "contact name", "lead name"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "work email", "business email"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "business phone"),
    "company": ("company", "company name", "organization", "organisation", "account", "account name", "employer"),
    "job_title": ("job title", "title", "position", "role", "job"),
    "company_size": ("company size", "employees", "number of employees", "employee count", "headcount", "size"),
    "country": ("country", "country code", "country iso"),
    "source": ("source", "lead source"),
    "campaign": ("campaign", "campaign name", "utm campaign"),
    "priority": ("priority",),
}
# Parts of a name, joined with a space into ``name`` when the file has no name column.
NAME_PART_COLUMNS = {
    "first_name": ("first name", "firstname", "given name", "forename", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
}
FIELD_LABELS = {
    "name": pgettext_lazy("lead field in a sentence", "name"),
    "email": pgettext_lazy("lead field in a sentence", "e-mail address"),
    "phone": pgettext_lazy("lead field in a sentence", "phone"),
    "company": pgettext_lazy("lead field in a sentence", "company"),
    "job_title": pgettext_lazy("lead field in a sentence", "job title"),
    "company_size": pgettext_lazy("lead field in a sentence", "company size"),
    "country": pgettext_lazy("lead field in a sentence", "country"),
    "source": pgettext_lazy("lead field in a sentence", "source"),
    "campaign": pgettext_lazy("lead field in a sentence", "campaign"),
    "priority": pgettext_lazy("lead field in a sentence", "priority"),
    "first_name": pgettext_lazy("lead field in a sentence", "first name"),
    "last_name": pgettext_lazy("lead field in a sentence", "last name"),
}
# For the mapping form: what each column may become ("" leaves it out).
MAPPING_CHOICES = [
    ("", gettext_lazy("(don't import)")),
    ("name", pgettext_lazy("lead field", "Name")),
    ("email", pgettext_lazy("lead field", "E-mail address")),
    ("phone", pgettext_lazy("lead field", "Phone")),
    ("company", pgettext_lazy("lead field", "Company")),
    ("job_title", pgettext_lazy("lead field", "Job title")),
    ("company_size", pgettext_lazy("lead field", "Company size")),
    ("country", pgettext_lazy("lead field", "Country")),
    ("source", pgettext_lazy("lead field", "Source")),
    ("campaign", pgettext_lazy("lead field", "Campaign")),
    ("priority", pgettext_lazy("lead field", "Priority")),
    ("first_name", pgettext_lazy("lead field", "First name")),
    ("last_name", pgettext_lazy("lead field", "Last name")),
]

# The header is looked for in the first bytes of the file; one line may not exceed MAX_LINE_BYTES.
SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
# What a bad row keeps of its text for the error report (see also batches.MAX_RAW_CHARS).
MAX_RAW_LINES = 20
NOT_UTF8 = gettext_lazy("not valid UTF-8 text (save the file as CSV UTF-8)")
DELIMITERS = (",", ";", "\t", "|")
BINARY_SIGNATURES = {
    b"PK\x03\x04": gettext_lazy("an Excel workbook or another zip archive"),
    b"\xd0\xcf\x11\xe0": gettext_lazy("an old-style Excel workbook"),
    b"%PDF": gettext_lazy("a PDF document"),
}


# The most of any one value of the file a message echoes: a binary or garbled cell shows its start only.
MAX_SHOWN_CHARS = 80


def shown(value):
    """Return ``value`` quoted for a message, cut to about ``MAX_SHOWN_CHARS`` characters; raises nothing."""
    value = str(value)
    if len(value) > MAX_SHOWN_CHARS:
        value = value[: MAX_SHOWN_CHARS - 1] + "…"
    return repr(value)


class ImportRefused(Exception):
    """A file or request the import cannot accept; the message says why and is meant for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _normal(text):
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


_ALIASES = {
    _normal(alias): field
    for field, aliases in (*LEAD_COLUMNS.items(), *NAME_PART_COLUMNS.items())
    for alias in (field, *aliases)
}


# The mapping step


def read_header(fileobj):
    """Return the column names of a CSV file's header row and rewind the file; raises ImportRefused if the file has no readable header."""
    return sniff(fileobj)[0]


def suggest_mapping(header):
    """Return ``{column: field}`` for the columns whose names match a lead field; raises nothing.

    The first column matching a field wins; first and last name are only used when
    there is no name column.
    """
    mapping = {}
    taken = set()
    for column in header:
        field = _ALIASES.get(_normal(column))
        if field and field not in taken and column not in mapping:
            mapping[column] = field
            taken.add(field)
    if "name" in taken:
        mapping = {column: field for column, field in mapping.items() if field not in NAME_PART_COLUMNS}
    return mapping


def sniff(fileobj):
    """Read the start of ``fileobj`` and return (header, delimiter, records up to the header), rewinding it; raises ImportRefused."""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    sample = fileobj.read(SAMPLE_BYTES) or b""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    if isinstance(sample, str):
        sample = sample.encode("utf-8")
    if not sample.strip():
        raise ImportRefused(gettext("The file is empty."))
    for signature, kind in BINARY_SIGNATURES.items():
        if sample.startswith(signature):
            raise ImportRefused(
                gettext("This is %(kind)s, not a CSV file. Save it as CSV (UTF-8) and upload that.") % {"kind": kind}
            )
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(
            gettext("The file is UTF-16 text. Save it as CSV UTF-8 (in Excel: Save as, CSV UTF-8) and upload that.")
        )
    sample = sample.removeprefix(b"\xef\xbb\xbf")
    first, newline, rest = sample.partition(b"\n")
    skip = 1
    # Excel may write its separator on a line of its own before the header: "sep=;".
    declared = re.fullmatch(rb"sep=(.)\s*", first)
    if declared:
        first, newline, rest = rest.partition(b"\n")
        skip = 2
    if not newline and len(sample) == SAMPLE_BYTES:
        raise ImportRefused(
            gettext("The first line is longer than %(size)s KB: this is not a CSV header row.")
            % {"size": SAMPLE_BYTES // 1024}
        )
    if b"\x00" in first:
        raise ImportRefused(gettext("This is not a CSV text file (it contains binary data)."))
    if b"\r" in first.rstrip(b"\r"):
        raise ImportRefused(
            gettext("The lines of this file end in CR only (old Mac style): save it as CSV UTF-8 and upload that.")
        )
    try:
        text = first.decode("utf-8")
        delimiter = declared.group(1).decode("utf-8") if declared else _delimiter(text)
    except UnicodeDecodeError:
        raise ImportRefused(
            gettext(
                "The header row is not UTF-8 text. Save the file as CSV UTF-8 (in Excel: Save as, CSV UTF-8) "
                "and upload that."
            )
        ) from None
    try:
        header = next(csv.reader([text], delimiter=delimiter), [])
    except (csv.Error, TypeError) as exc:
        raise ImportRefused(gettext("The header row cannot be read as CSV (%(error)s).") % {"error": exc}) from None
    header = [cell.strip() for cell in header]
    if not any(header):
        raise ImportRefused(
            gettext("The first line is empty: the file needs a header row naming its columns, e.g. name,email.")
        )
    return header, delimiter, skip


def _delimiter(line):
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def column_plan(header, mapping):
    """Check ``mapping`` against ``header``; return [(column index, field)]; raises ImportRefused."""
    position = {}
    for index, column in enumerate(header):
        position.setdefault(column, index)
    plan, fields = [], {}
    for column, field in mapping.items():
        if not field:
            continue
        if column not in position:
            raise ImportRefused(
                gettext("The file has no column %(column)s to import as %(field)s.")
                % {"column": shown(column), "field": FIELD_LABELS.get(field, field)}
            )
        if field not in FIELD_LABELS:
            raise ImportRefused(
                gettext("%(field)s is not a lead field that can be imported (column %(column)s).")
                % {"field": shown(field), "column": shown(column)}
            )
        if field in fields:
            raise ImportRefused(
                gettext("Two columns are mapped to %(field)s: %(first)s and %(second)s. Choose one.")
                % {"field": FIELD_LABELS[field], "first": shown(fields[field]), "second": shown(column)}
            )
        fields[field] = column
        plan.append((position[column], field))
    if "email" not in fields:
        looks_like_data = next((cell for cell in header if "@" in cell), None)
        if looks_like_data:
            raise ImportRefused(
                gettext(
                    "The first line looks like data, not a header (it contains %(value)s): "
                    "add a header row naming the columns, e.g. name,email."
                )
                % {"value": shown(looks_like_data)}
            )
        columns = ", ".join(shown(column) for column in header[:20] if column) or gettext("none")
        raise ImportRefused(
            gettext("No column holds the e-mail address (the file's columns: %(columns)s). Map one to e-mail.")
            % {"columns": columns}
        )
    return sorted(plan)


class CsvSource:
    """The file's records, read line by line: each line is decoded as UTF-8 on its own."""

    def __init__(self, handle, delimiter):
        handle.seek(0)
        self.readline = handle.readline
        self.delimiter = delimiter
        self.lines = []  # text of the record being read (its first MAX_RAW_LINES lines)
        self.problem = None  # what was wrong with its bytes

    def _feed(self):
        readline, lines = self.readline, self.lines
        first = True
        while True:
            data = readline(MAX_LINE_BYTES)
            if not data:
                return
            if len(data) == MAX_LINE_BYTES and not data.endswith(b"\n"):
                while (rest := readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                self.problem = self.problem or gettext("a line is longer than %(size)s bytes") % {
                    "size": number_format(MAX_LINE_BYTES, force_grouping=True)
                }
                text = "\n"
            else:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = data.decode("utf-8", "replace")
                    self.problem = self.problem or str(NOT_UTF8)
            if first:
                first = False
                text = text.removeprefix("\ufeff")
            if len(lines) < MAX_RAW_LINES:
                lines.append(text)
            yield text

    def records(self):
        """Yield (first line, last line, cells or None, problem or None, raw text) for every record."""
        reader = csv.reader(self._feed(), delimiter=self.delimiter)
        lines = self.lines
        end = 0
        while True:
            try:
                cells, error = next(reader), None
            except StopIteration:
                return
            except csv.Error as exc:
                cells, error = None, gettext("could not be read as CSV (%(error)s)") % {"error": exc}
            start, end = end + 1, reader.line_num
            raw = lines[0] if len(lines) == 1 else "".join(lines)
            problem = self.problem or error
            if problem is None and "\x00" in raw:
                problem = gettext("contains a NUL character")
            lines.clear()
            self.problem = None
            yield start, end, cells, problem, raw
