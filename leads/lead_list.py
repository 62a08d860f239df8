"""The list of every lead a user may see (/leads/): search, filters, sorts, keyset pages, CSV.

Pages are keyset pages: the query string carries the sort key and id of the last row
shown (``after``), so page 2,000 costs what page 1 costs; there is no OFFSET and no
total count. A CSV export writes the same view, every row, as a spreadsheet reads it
safely (no cell starts a formula).
"""

import base64
import binascii
import csv
import datetime
import json
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from . import access
from .models import SavedView, Stage, Team, TeamMember

PAGE_SIZE = 50
MAX_ID = 2**63  # lead ids are bigints
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class Sort:
    label: str
    field: str
    descending: bool
    nullable: bool = False

    def order_by(self):
        # NULLS LAST only where there are NULLs: the same clause on a NOT NULL column would
        # keep PostgreSQL from reading a plain (created_at DESC, id DESC) index in order.
        if self.descending:
            return (F(self.field).desc(nulls_last=True) if self.nullable else F(self.field).desc(), "-id")
        return (F(self.field).asc(nulls_last=True) if self.nullable else F(self.field).asc(), "id")


# Name in the query string -> how the list is sorted. "Last activity" is the lead's last change.
SORTS = {
    "newest": Sort(gettext_lazy("Newest"), "created_at", descending=True),
    "oldest": Sort(gettext_lazy("Oldest"), "created_at", descending=False),
    "activity": Sort(gettext_lazy("Last activity"), "updated_at", descending=True),
    "due": Sort(gettext_lazy("Due soonest"), "sla_due_at", descending=False, nullable=True),
    "score": Sort(gettext_lazy("Highest score"), "score", descending=True),
}
# Read in order from lead_created_idx; the other sorts have no index of their own (see the model).
DEFAULT_SORT = "newest"

SLA_STATES = (
    ("in_time", gettext_lazy("Awaiting a response, in time")),
    ("breached", gettext_lazy("Breached")),
    ("followed_up", gettext_lazy("MQL followed up")),
    ("none", gettext_lazy("No SLA clock (not an MQL)")),
)


class CursorField(forms.CharField):
    """``after``: the sort value and id of the last row of the previous page, as an opaque token."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            sort, key, pk = json.loads(base64.urlsafe_b64decode(value.encode() + b"==="))
            if not _is_int(pk) or not 0 < pk < MAX_ID or sort not in SORTS:
                raise ValueError
            if key is None:
                pass
            elif SORTS[sort].field.endswith("_at"):
                key = datetime.datetime.fromisoformat(key)
                # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts.
                key = key.astimezone(datetime.UTC) if key.tzinfo else None
                if key is None:
                    raise ValueError
            elif not _is_int(key) or not -(2**31) <= key < 2**31:
                raise ValueError
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError):
            raise forms.ValidationError(
                gettext("This page link is damaged; start again from the first page.")
            ) from None
        return sort, key, pk


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def cursor_for(sort_name, lead):
    key = getattr(lead, SORTS[sort_name].field)
    if isinstance(key, datetime.datetime):
        key = key.isoformat()
    raw = json.dumps([sort_name, key, lead.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def rows_after(sort, key, pk):
    """The rows that come after (key, pk) in ``sort``'s order (NULLs last)."""
    field = sort.field
    beyond = "lt" if sort.descending else "gt"
    if key is None:
        return Q(**{f"{field}__isnull": True, f"pk__{beyond}": pk})
    condition = Q(**{f"{field}__{beyond}": key}) | Q(**{field: key, f"pk__{beyond}": pk})
    if sort.nullable:
        return condition | Q(**{f"{field}__isnull": True})
    # The same rows, with a bound PostgreSQL can start an index scan at: the OR alone is a filter,
    # and an index read in order would step over every row before the cursor (100,000 for page 2,001).
    return Q(**{f"{field}__{beyond}e": key}) & condition


class LeadListForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        help_text=gettext_lazy("Name, e-mail or company"),
    )
    stage = forms.ChoiceField(
        label=gettext_lazy("Stage"), required=False, choices=[("", gettext_lazy("Any stage")), *Stage.choices]
    )
    owner = forms.TypedChoiceField(label=gettext_lazy("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    source = forms.CharField(label=gettext_lazy("Source"), required=False, max_length=60)
    campaign = forms.CharField(label=gettext_lazy("Campaign"), required=False, max_length=120)
    score_min = forms.IntegerField(
        label=gettext_lazy("Score from"), required=False, min_value=-(2**31), max_value=2**31 - 1
    )
    score_max = forms.IntegerField(
        label=gettext_lazy("Score to"), required=False, min_value=-(2**31), max_value=2**31 - 1
    )
    sla = forms.ChoiceField(label="SLA", required=False, choices=[("", gettext_lazy("Any")), *SLA_STATES])
    created_from = forms.DateField(
        label=gettext_lazy("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=gettext_lazy("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    mql_from = forms.DateField(
        label=gettext_lazy("MQL from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    mql_to = forms.DateField(
        label=gettext_lazy("MQL to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"), required=False, choices=[(name, sort.label) for name, sort in SORTS.items()]
    )
    after = CursorField(required=False, widget=forms.HiddenInput)

    def __init__(self, data, *, user):
        super().__init__(data)
        self.user = user
        teams = Team.objects.order_by("name")
        if not access.has_role(user, access.ADMIN, access.MARKETER):
            teams = teams.filter(pk__in=access.managed_team_ids(user))
        self.teams = list(teams)
        self.fields["team"].choices = [("", gettext("Any team")), *((team.pk, team.name) for team in self.teams)]
        self.fields["owner"].choices = [
            ("", gettext("Anyone")),
            (0, gettext("Nobody (unassigned)")),
            *self._owner_choices(),
        ]

    def _owner_choices(self):
        if not access.has_role(self.user, access.ADMIN, access.MARKETER, access.MANAGER):
            return [(self.user.pk, _person(self.user))]
        reps = get_user_model().objects.filter(
            memberships__role=TeamMember.Role.REP, memberships__team__in=[team.pk for team in self.teams]
        )
        return [(user.pk, _person(user)) for user in reps.distinct().order_by("first_name", "last_name", "username")]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("score_min"), cleaned.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", gettext("The highest score cannot be below the lowest."))
        after = cleaned.get("after")
        if after and after[0] != (cleaned.get("sort") or DEFAULT_SORT):
            self.add_error(
                "after", gettext("This page link belongs to another sort order; start again from the first page.")
            )
        return cleaned

    @property
    def sort_name(self):
        return (self.cleaned_data.get("sort") if self.is_bound and self.is_valid() else None) or DEFAULT_SORT

    def filter(self, leads, *, now):
        """``leads`` narrowed by the valid filters, in the chosen order (no page cut)."""
        data = self.cleaned_data
        if data.get("q"):
            leads = leads.matching(data["q"])
        if data.get("stage"):
            leads = leads.filter(stage=data["stage"])
        if data.get("owner") is not None:
            # 0 is "nobody": the unassigned MQLs.
            leads = leads.filter(owner_id=data["owner"]) if data["owner"] else leads.filter(owner__isnull=True)
        if data.get("team") is not None:
            leads = leads.filter(team_id=data["team"])
        for field in ("source", "campaign"):
            if data.get(field):
                leads = leads.filter(**{field: data[field]})
        if data.get("score_min") is not None:
            leads = leads.filter(score__gte=data["score_min"])
        if data.get("score_max") is not None:
            leads = leads.filter(score__lte=data["score_max"])
        leads = _sla_state(leads, data.get("sla"), now)
        for field, name in (("created_at", "created"), ("mql_at", "mql")):
            if data.get(f"{name}_from"):
                leads = leads.filter(**{f"{field}__gte": _day_start(data[f"{name}_from"])})
            if data.get(f"{name}_to"):
                leads = leads.filter(**{f"{field}__lt": _day_start(data[f"{name}_to"] + datetime.timedelta(days=1))})
        return leads.order_by(*SORTS[self.sort_name].order_by())

    def page(self, leads, *, now, size=None):
        """One keyset page of the filtered ``leads``: (rows, the ``after`` token of the next page or None)."""
        size = size or PAGE_SIZE
        leads = self.filter(leads, now=now)
        after = self.cleaned_data.get("after")
        if after:
            _sort, key, pk = after
            leads = leads.filter(rows_after(SORTS[self.sort_name], key, pk))
        rows = list(leads[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return rows, (cursor_for(self.sort_name, rows[-1]) if more else None)


def _sla_state(leads, state, now):
    if state == "in_time":
        return (
            leads.awaiting_response()
            .filter(sla_breached_at__isnull=True)
            .filter(Q(sla_due_at__gt=now) | Q(sla_due_at__isnull=True))
        )
    if state == "breached":
        return leads.breached(now)
    if state == "followed_up":
        return leads.filter(stage=Stage.MQL, first_follow_up_at__isnull=False)
    if state == "none":
        return leads.exclude(stage=Stage.MQL)
    return leads


def _day_start(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _person(user):
    return user.get_full_name() or user.get_username()


# CSV export

# Headers in the user's language: people open this file in a spreadsheet.
CSV_COLUMNS = (
    (pgettext_lazy("CSV column", "id"), "pk"),
    (pgettext_lazy("CSV column", "name"), "name"),
    (pgettext_lazy("CSV column", "email"), "email"),
    (pgettext_lazy("CSV column", "phone"), "phone"),
    (pgettext_lazy("CSV column", "company"), "company"),
    (pgettext_lazy("CSV column", "stage"), "stage"),
    (pgettext_lazy("CSV column", "owner"), "owner"),
    (pgettext_lazy("CSV column", "team"), "team"),
    (pgettext_lazy("CSV column", "source"), "source"),
    (pgettext_lazy("CSV column", "campaign"), "campaign"),
    (pgettext_lazy("CSV column", "score"), "score"),
    (pgettext_lazy("CSV column", "created_at"), "created_at"),
    (pgettext_lazy("CSV column", "mql_at"), "mql_at"),
    (pgettext_lazy("CSV column", "sla_due_at"), "sla_due_at"),
    (pgettext_lazy("CSV column", "last_activity_at"), "updated_at"),
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """``value`` as a CSV cell that no spreadsheet runs: text starting a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, int):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def csv_lines(leads):
    """The CSV of ``leads`` (fetched with owner and team), a line at a time, header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow([str(header) for header, _ in CSV_COLUMNS])
    for lead in leads.iterator(chunk_size=2000):
        values = {
            "owner": _person(lead.owner) if lead.owner else "",
            "team": lead.team.name if lead.team else "",
        }
        yield writer.writerow(
            [neutralised(values[attr] if attr in values else getattr(lead, attr)) for _, attr in CSV_COLUMNS]
        )


# Saved views


class ViewError(Exception):
    """A saved view refused; ``message`` says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


MAX_VIEWS_PER_USER = 50


def saved_views(user):
    """Return the saved views ``user`` may open: their own and those shared with a team they belong to; raises nothing."""
    teams = TeamMember.objects.filter(user=user).values("team_id")
    return SavedView.objects.filter(Q(owner=user) | Q(team_id__in=teams)).select_related("team").order_by("name", "id")


def normalised_query(user, query):
    """The query string of a /leads/ search as a view keeps it: valid, without the page cursor and empty fields; raises ViewError."""
    form = LeadListForm(QueryDict(query or ""), user=user)
    if not form.is_valid():
        raise ViewError(gettext("This search has errors; correct them before saving it."))
    kept = QueryDict(mutable=True)
    for name in form.fields:
        value = form.data.get(name, "")
        if name != "after" and value:
            kept[name] = value
    return kept.urlencode()


def save_view(user, *, name, query, team=None):
    """Save the search ``query`` of /leads/ as ``name`` for ``user``, shared with ``team`` if given (its managers and admins only); returns the view, raises ViewError."""
    name = (name or "").strip()
    if not name:
        raise ViewError(gettext("Give the view a name."))
    if len(name) > 80:
        raise ViewError(gettext("A view's name has at most 80 characters."))
    if team is not None and not (access.has_role(user, access.ADMIN) or team.pk in access.managed_team_ids(user)):
        raise ViewError(gettext("Only managers of %(team)s may share a view with it.") % {"team": team.name})
    query = normalised_query(user, query)
    if SavedView.objects.filter(owner=user).count() >= MAX_VIEWS_PER_USER:
        raise ViewError(
            gettext("You have %(count)s saved views already; delete one first.") % {"count": MAX_VIEWS_PER_USER}
        )
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=user, name=name, query=query, team=team)
    except IntegrityError:
        raise ViewError(gettext("You already have a view named “%(name)s”.") % {"name": name}) from None


def delete_view(user, view_id):
    """Delete ``user``'s own saved view ``view_id``; returns its name, raises ViewError if it is not theirs."""
    view = SavedView.objects.filter(owner=user, pk=view_id).first()
    if view is None:
        raise ViewError(gettext("That view is not one of yours, or it was deleted already."))
    view.delete()
    return view.name
