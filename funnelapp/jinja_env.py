"""The Jinja2 environment of the few templates that render many rows per request (the rep's queue).

Django's template language costs several microseconds a node; a queue page of 50
rows is about 5,000 nodes. Jinja2 compiles a template to Python, so the same rows
render in a few milliseconds. The strings are Django's catalogue (``_()`` is
Django's ``gettext``), and the filters are the Django templates' own functions,
so a row reads the same whichever engine renders it.
"""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from jinja2 import Environment

from leads.templatetags.leads_ui import ago, iso, since, translated
from leads.templatetags.sla_ui import clock_countdown, isos

# A number no primary key reaches, reversed in place of one to learn a route's text around its id.
_ID_SENTINEL = 9_081_726_354_453_627_189


def id_url(name):
    """``pk -> URL`` for the route ``name`` taking one id: reversed once per render instead of once per row."""
    url = reverse(name, args=[_ID_SENTINEL])
    before, found, after = url.partition(str(_ID_SENTINEL))
    if not found or str(_ID_SENTINEL) in after:
        return lambda pk: reverse(name, args=[pk])
    return lambda pk: f"{before}{pk}{after}"


def short_datetime(value):
    """An instant in the user's time zone and language's short format, as Django's ``|date:"SHORT_DATETIME_FORMAT"``."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def include_django(name, **context):
    """A Django partial inside a Jinja2 template, for what few rows show (a duplicate mark)."""
    return render_to_string(name, context)


def environment(**options):
    env = Environment(**options)
    env.globals.update(_=gettext, id_url=id_url, include_django=include_django)
    env.filters.update(
        ago=ago,
        clock_countdown=clock_countdown,
        iso=iso,
        isos=isos,
        short_datetime=short_datetime,
        since=since,
        translated=translated,
    )
    return env
