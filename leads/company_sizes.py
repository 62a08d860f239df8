"""Company sizes as files and forms bring them, read into a range of employees.

A size is kept as the text it came as (``Lead.company_size``) and as a range:
``company_size_low`` and ``company_size_high``, the high end NULL when the text
is open-ended ("10k+"). A plain number is a range of one ("250" is 250-250).

Accepted: digits with thousands grouped by commas, spaces (also no-break and
thin spaces) or none ("1,000", "1 000", "1000"); a ``k`` suffix for thousands,
with a decimal point ("10k", "1.5k"); two numbers joined by a hyphen, an en or
em dash or "to" ("51-200", "1,001-5,000", "11–50", "11 to 50"); a number
followed by "+" ("5000+", "10k+"). Anything else, a range whose low end is above
its high end, or a number above ``MAX_COMPANY_SIZE`` is refused with a message
that says which.

How a range meets a scoring rule's "between" (``rules.demographic_match`` and
``set_based._condition``, which must agree): the rule matches when the *whole*
range lies within the rule's bounds, i.e. ``low >= min_value`` (if set) and
``high <= max_value`` (if set; an open-ended range never meets a maximum). So
a rule "company size >= 200" matches "201-500" and "10k+" but not "51-200",
and "between 50 and 5000" matches "51-200" but not "1,001-10,000" nor "5000+".
The text rules (contains, is, is one of) compare the text as given.
"""

import re

from django.utils.formats import number_format
from django.utils.translation import gettext

MAX_COMPANY_SIZE = 10_000_000
MAX_TEXT_LENGTH = 40

_NUMBER = r"(\d{1,3}(?:[,\u00a0\u2009\u202f ]\d{3})+|\d+(?:\.\d+)?\s*[kK]|\d+)"
_SINGLE = re.compile(rf"{_NUMBER}\s*(\+?)")
_RANGE = re.compile(rf"{_NUMBER}\s*(?:-|\u2013|\u2014|to)\s*{_NUMBER}", re.IGNORECASE)


class CompanySizeError(ValueError):
    """A company size that cannot be read; the message says why (a clause: "company size must be ...")."""

    @property
    def sentence(self):
        """The message as a sentence: a capital first letter, a full stop (the rest of its case kept)."""
        text = str(self)
        return text[:1].upper() + text[1:] + "."


def _number(text):
    text = re.sub(r"[,\u00a0\u2009\u202f ]", "", text)
    if text[-1] in "kK":
        thousands = float(text[:-1])
        value = thousands * 1000
        if value != int(value):
            raise CompanySizeError(gettext("%(size)s is not a whole number of employees") % {"size": repr(text)})
        return int(value)
    return int(text)


def parse_company_size(value):
    """Return ``(text, low, high)`` for a company size given as text or a whole number: ``("", None, None)`` for none, ``high`` None when open-ended; raises CompanySizeError."""
    if value is None:
        return "", None, None
    if isinstance(value, bool):
        raise CompanySizeError(gettext("company size must be a number of employees or a range such as 51-200"))
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise CompanySizeError(gettext("company size must be a number of employees or a range such as 51-200"))
    text = value.strip()
    if not text:
        return "", None, None
    shown = text if len(text) <= 80 else text[:79] + "…"
    if len(text) > MAX_TEXT_LENGTH:
        raise CompanySizeError(
            gettext("company size is longer than %(limit)s characters: %(size)s")
            % {"limit": MAX_TEXT_LENGTH, "size": repr(shown)}
        )
    single = _SINGLE.fullmatch(text)
    ranged = None if single else _RANGE.fullmatch(text)
    if single:
        low = _number(single.group(1))
        high = None if single.group(2) else low
    elif ranged:
        low, high = _number(ranged.group(1)), _number(ranged.group(2))
        if low > high:
            raise CompanySizeError(
                gettext("company size %(size)s is a range whose low end is above its high end") % {"size": repr(shown)}
            )
    else:
        raise CompanySizeError(
            gettext(
                "company size must be a number of employees or a range such as 51-200, 1,001-5,000 or 10k+, not %(size)s"
            )
            % {"size": repr(shown)}
        )
    if max(low, high or 0) > MAX_COMPANY_SIZE:
        raise CompanySizeError(
            gettext("company size %(size)s is above %(limit)s employees")
            % {"size": repr(shown), "limit": number_format(MAX_COMPANY_SIZE, force_grouping=True)}
        )
    return text, low, high


def size_fields(value):
    """Return the lead fields ``company_size``, ``company_size_low`` and ``company_size_high`` for ``value``; raises CompanySizeError."""
    text, low, high = parse_company_size(value)
    return {"company_size": text, "company_size_low": low, "company_size_high": high}


def range_within(low, high, minimum, maximum):
    """Return whether the range ``low``-``high`` (``high`` None: open-ended) lies within ``minimum``-``maximum`` (either None: unbounded); no size never matches; raises nothing."""
    if low is None:
        return False
    if minimum is not None and low < minimum:
        return False
    return maximum is None or (high is not None and high <= maximum)
