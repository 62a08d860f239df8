"""The API's JSON parser: DRF's, with the documents Python's own parser chokes on answered 400.

DRF's parser let a RecursionError escape from a few thousand nested brackets (a
500 for anyone, signed in or not) and reads 1e309 as infinity. Here a document
nested deeper than ``MAX_DEPTH`` levels, a number too large for a float, NaN or
Infinity, and bytes that are not UTF-8 are each a ParseError with a sentence.
"""

import codecs
import json
import math

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deepest nesting a request of this API ever needs is 3 (a batch of activities: a list of
# objects of scalars); 32 leaves room and keeps every later walk over the data far from
# Python's recursion limit.
MAX_DEPTH = 32


def _refuse_constant(name):
    raise ValueError(gettext("%(name)s is not a number JSON allows; send a finite number") % {"name": name})


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(gettext("the number %(number)s is too large") % {"number": text[:40]})
    return value


def nesting_depth(data, limit):
    """The nesting depth of ``data``, counted without recursion, stopping once it passes ``limit``."""
    deepest = 0
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if not isinstance(value, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children)
    return deepest


def too_deep():
    return gettext("JSON parse error - nested deeper than %(depth)s levels.") % {"depth": MAX_DEPTH}


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:
            raise ParseError(too_deep()) from None
        except ValueError as exc:  # also UnicodeDecodeError and the 4,300-digit limit of int()
            # Python's own reasons (where the document breaks) stay as Python words them.
            raise ParseError(gettext("JSON parse error - %(error)s") % {"error": exc}) from None
        if nesting_depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise ParseError(too_deep())
        return data
