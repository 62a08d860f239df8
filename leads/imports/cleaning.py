"""One row's cells checked and cleaned into lead field values, and the e-mail addresses seen so far."""

import functools
import re
from array import array

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext

from ..company_sizes import CompanySizeError, size_fields
from ..models import Lead, Priority
from .reading import FIELD_LABELS, shown

MAX_LENGTHS = {
    field: Lead._meta.get_field(field).max_length
    for field in ("name", "email", "phone", "company", "job_title", "source", "campaign")
}
SHORTEST_LIMIT = min(MAX_LENGTHS.values())
PRIORITIES = {choice.value: choice.value for choice in Priority} | {
    choice.label.lower(): choice.value for choice in Priority
}


# A file repeats a few sizes ("51-200") many times.
_size_fields = functools.lru_cache(maxsize=10_000)(size_fields)


class _CompiledEmailValidator(EmailValidator):
    """Django's e-mail validation with its expressions compiled up front instead of behind a lazy proxy."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
    literal_regex = re.compile(EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags)


@functools.lru_cache(maxsize=50_000)
def _domain_is_valid(domain):
    return _CompiledEmailValidator().validate_domain_part(domain)


class _EmailValidator(_CompiledEmailValidator):
    """The same validation, remembering its verdict on each domain: a file repeats a few domains many times."""

    def validate_domain_part(self, domain_part):
        return _domain_is_valid(domain_part)


validate_email = _EmailValidator()


def wrong_width(cells, width):
    """Whether a row has fewer cells than the header, or more that are not empty."""
    return len(cells) != width and (len(cells) < width or any(cell.strip() for cell in cells[width:]))


def clean_row(cells, plan, width, problem):
    """Return (field values, []) for a good row, or (None, reasons) for a bad one."""
    if problem:
        return None, [problem]
    if wrong_width(cells, width):
        return None, [gettext("expected %(width)s columns, got %(count)s") % {"width": width, "count": len(cells)}]
    values, reasons = {}, []
    for index, field in plan:
        value = cells[index].strip()
        if value:
            values[field] = value
    if "first_name" in values or "last_name" in values:
        parts = (values.pop("first_name", ""), values.pop("last_name", ""))
        if "name" not in values:
            values["name"] = " ".join(part for part in parts if part)
    for field, value in values.items():
        if len(value) > SHORTEST_LIMIT and len(value) > MAX_LENGTHS.get(field, len(value)):
            reasons.append(
                gettext("%(field)s is longer than %(limit)s characters")
                % {"field": FIELD_LABELS[field], "limit": MAX_LENGTHS[field]}
            )
    email = values.get("email")
    if email is None:
        reasons.append(gettext("e-mail address is missing"))
    elif len(email) <= MAX_LENGTHS["email"]:
        try:
            validate_email(email)
        except ValidationError:
            reasons.append(gettext("%(value)s is not a valid e-mail address") % {"value": shown(email)})
    size = values.get("company_size")
    if size is not None:
        try:
            values.update(_size_fields(size))
        except CompanySizeError as error:
            reasons.append(str(error))
    country = values.get("country")
    if country is not None:
        if len(country) == 2 and country.isascii() and country.isalpha():
            values["country"] = country.upper()
        else:
            reasons.append(
                gettext("country must be a two-letter ISO code such as DE, not %(value)s") % {"value": shown(country)}
            )
    priority = values.get("priority")
    if priority is not None:
        if priority.lower() in PRIORITIES:
            values["priority"] = PRIORITIES[priority.lower()]
        else:
            reasons.append(gettext("priority must be low, normal or high, not %(value)s") % {"value": shown(priority)})
    if reasons:
        return None, reasons
    return values, reasons


class SeenEmails:
    """E-mail address -> the line it was first seen on, in 24 to 48 bytes per address.

    A dict of a million address strings takes well over 100 MB; this open-addressing
    table (12 bytes a slot, at most half of them full) keeps a 64-bit hash of each
    address instead. Two different addresses of a million-row file share a hash with a
    chance of about 1 in 10^7; the second would be reported as a duplicate. The hash is
    per process: a resumed job rebuilds the table by reading the committed lines again.
    """

    def __init__(self):
        self.size = 1 << 16
        self.keys = array("q", bytes(8 * self.size))
        self.lines = array("I", bytes(4 * self.size))
        self.count = 0

    def first_line(self, email, line):
        """Return the line ``email`` was first seen on, or remember it at ``line`` and return None."""
        key = hash(email) or 1
        keys, mask = self.keys, self.size - 1
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return self.lines[slot]
            if not found:
                break
            slot = (slot + 1) & mask
        keys[slot] = key
        self.lines[slot] = line
        self.count += 1
        if 2 * self.count > self.size:
            self._grow()
        return None

    def _grow(self):
        old = zip(self.keys, self.lines, strict=True)
        self.size *= 2
        keys, lines, mask = array("q", bytes(8 * self.size)), array("I", bytes(4 * self.size)), self.size - 1
        for key, line in old:
            if key:
                slot = key & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot] = key
                lines[slot] = line
        self.keys, self.lines = keys, lines
