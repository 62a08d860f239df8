"""Report forms: the period and filters every report page and API twin reads, and the monthly targets.

``ReportForm`` turns query parameters into a ``metrics.Period``, ``metrics.Filters``,
a view and an ``as_of`` instant, scoped by the user's role: a rep sees only their
own numbers, a manager those of the teams they manage, marketers and admins all.
Bad input becomes field errors (shown on the page, a 400 in the API).
"""

import functools
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from leads import access
from leads.forms import time_zone_choices, time_zone_names
from leads.models import Team, TeamMember

from . import metrics
from .models import MonthlyTarget

DEFAULT_DAYS = 30
DATE_FORMAT = "%Y-%m-%d"
ID_MAX = 2**63 - 1

VIEW_CHOICES = [
    (metrics.PERIOD_VIEW, gettext_lazy("Period")),
    (metrics.COHORT_VIEW, gettext_lazy("Cohort")),
]


def person_label(user):
    return user.get_full_name() or user.get_username()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format=DATE_FORMAT)


def viewer_zone_name():
    """The viewer's time zone (``funnelapp.middleware.UserLocale`` activates the profile's), UTC if unknown."""
    name = timezone.get_current_timezone_name()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return "UTC"
    return name


class TimeZoneField(forms.ChoiceField):
    """A select of the IANA zones; any name is accepted here (an API client may give one the list
    leaves out, such as ``EST``) and ``metrics.Period`` refuses an unknown one with its own sentence."""

    def __init__(self, **kwargs):
        super().__init__(choices=time_zone_choices, validators=[MaxLengthValidator(64)], **kwargs)
        # Zone names are identifiers (Europe/Berlin), the same in every language.
        self.widget.attrs["translate"] = "no"

    def valid_value(self, value):
        return True


class ReportForm(forms.Form):
    """The period (``from``, ``to``), ``view``, ``as_of``, ``tz`` and the filters of a report."""

    view = forms.ChoiceField(
        choices=VIEW_CHOICES,
        required=False,
        label=gettext_lazy("View"),
        help_text=gettext_lazy(
            "Period: events that happened in the period. Cohort: the period's MQLs, followed to date."
        ),
        error_messages={"invalid_choice": gettext_lazy("Choose 'period' or 'cohort'.")},
    )
    as_of = forms.DateTimeField(
        required=False,
        label=gettext_lazy("As of"),
        help_text=gettext_lazy("Judge the numbers as of this moment (default: now)."),
        error_messages={
            "invalid": gettext_lazy("Give 'as_of' as an ISO 8601 date-time, e.g. 2026-11-30T18:00:00+00:00.")
        },
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    tz = TimeZoneField(required=False, label=gettext_lazy("Time zone"))
    source = forms.CharField(required=False, max_length=60, label=gettext_lazy("Source"))
    campaign = forms.CharField(required=False, max_length=120, label=gettext_lazy("Campaign"))
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=gettext_lazy("Team"))
    rep = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=gettext_lazy("Rep"))
    by = forms.ChoiceField(
        choices=[
            ("", gettext_lazy("No breakdown")),
            ("rep", gettext_lazy("Rep")),
            ("team", gettext_lazy("Team")),
            ("source", gettext_lazy("Source")),
            ("campaign", gettext_lazy("Campaign")),
        ],
        required=False,
        label=gettext_lazy("Break down by"),
        error_messages={"invalid_choice": gettext_lazy("Break down by rep, team, source or campaign.")},
    )

    # Query parameters a report link carries besides the filters (drill-down, CSV).
    EXTRA = ()

    def __init__(self, data=None, *, user, today=None):
        data = data.copy() if data is not None else {}
        self.user = user
        roles = access.roles_of(user)
        self.sees_all = bool(roles & {access.ADMIN, access.MARKETER})
        self.managed = () if self.sees_all else tuple(sorted(access.managed_team_ids(user)))
        self.own_only = not self.sees_all and not self.managed
        # The period's days and "today" are the viewer's unless the query names another zone.
        viewer_zone = viewer_zone_name()
        tz = data.get("tz") or viewer_zone
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            zone = ZoneInfo(viewer_zone)
        today = today or timezone.now().astimezone(zone).date()
        # Defaults go into the data, so the inputs show them and links repeat them.
        for name, value in (("tz", viewer_zone), ("view", metrics.PERIOD_VIEW)):
            if not data.get(name):
                data[name] = value
        if not data.get("to"):
            data["to"] = today.strftime(DATE_FORMAT)
        if not data.get("from"):
            data["from"] = self._default_from(data["to"], today).strftime(DATE_FORMAT)
        super().__init__(data)
        date_errors = {
            "invalid": gettext("Enter a date as YYYY-MM-DD."),
            "required": gettext("Give a date as YYYY-MM-DD."),
        }
        self.fields = {
            "from": forms.DateField(
                label=gettext("From"), input_formats=[DATE_FORMAT], widget=DateInput(), error_messages=date_errors
            ),
            "to": forms.DateField(
                label=gettext("To"), input_formats=[DATE_FORMAT], widget=DateInput(), error_messages=date_errors
            ),
            **self.fields,
        }
        self._scope_choices()
        self._offer_zone(data["tz"])

    @staticmethod
    def _default_from(to, today):
        try:
            end = datetime.strptime(str(to), DATE_FORMAT).date()
        except ValueError:
            end = today
        try:
            return end - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:
            return end

    def _offer_zone(self, name):
        # A valid zone the list leaves out (EST, an alias) is still offered, so the select shows it chosen.
        field = self.fields["tz"]
        if name and name not in time_zone_names():
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
                return
            field.choices = [(name, name.replace("_", " ")), *time_zone_choices()]

    def _scope_choices(self):
        # The choices are read on first use (functools.cache: once): a page renders them, but
        # an API call without a team or rep filter never validates against them, so it skips
        # their queries.
        team_field, rep_field = self.fields["team"], self.fields["rep"]
        User = get_user_model()
        if self.sees_all:
            team_field.choices = functools.cache(
                lambda: [("", gettext("All teams")), *Team.objects.filter(is_active=True).values_list("pk", "name")]
            )
            reps = User.objects.filter(memberships__role=TeamMember.Role.REP).distinct()
            team_field.error_messages["invalid_choice"] = gettext("Unknown team.")
            rep_field.error_messages["invalid_choice"] = gettext("Unknown rep.")
        elif self.managed:
            teams = Team.objects.filter(pk__in=self.managed).values_list("pk", "name")
            reps = User.objects.filter(
                memberships__team_id__in=self.managed, memberships__role=TeamMember.Role.REP
            ).distinct()
            team_field.choices = list(teams)
            team_field.error_messages["invalid_choice"] = gettext("You can see reports only for the teams you manage.")
            rep_field.error_messages["invalid_choice"] = gettext("You can see reports only for the reps of your teams.")
            if not self.data.get("team") and team_field.choices:
                # A manager looks at one team at a time; the first one by name to start with.
                self.data["team"] = str(team_field.choices[0][0])
        else:
            reps = [self.user]
            team_field.choices = [("", gettext("Your leads in any team"))]
            team_field.error_messages["invalid_choice"] = gettext("Reps see their own numbers: leave the team empty.")
            rep_field.error_messages["invalid_choice"] = gettext("You can see only your own numbers.")
            self.data.setdefault("rep", str(self.user.pk))

        def rep_choices():
            people = sorted(reps, key=lambda user: person_label(user).lower()) if not self.own_only else reps
            return ([] if self.own_only else [("", gettext("All reps"))]) + [(u.pk, person_label(u)) for u in people]

        rep_field.choices = functools.cache(rep_choices)

    def clean_tz(self):
        return self.cleaned_data["tz"] or viewer_zone_name()

    def clean_view(self):
        return self.cleaned_data["view"] or metrics.PERIOD_VIEW

    def clean_as_of(self):
        value = self.cleaned_data["as_of"]
        if value is None:
            return None
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(gettext("'as_of' is out of range.")) from None
        if not metrics.EARLIEST_YEAR <= value.year <= metrics.LATEST_YEAR:
            raise forms.ValidationError(
                gettext("'as_of' must be between %(earliest)s and %(latest)s, got %(value)s.")
                % {"earliest": metrics.EARLIEST_YEAR, "latest": metrics.LATEST_YEAR, "value": value.date().isoformat()}
            )
        return value

    def clean(self):
        data = super().clean()
        if self.errors.get("tz") is None and "from" in data and "to" in data:
            try:
                data["period"] = metrics.Period(data["from"], data["to"], data["tz"])
            except metrics.ReportInputError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        if self.own_only:
            data["rep"] = self.user.pk
        return data

    @property
    def period(self):
        return self.cleaned_data["period"]

    @property
    def filters(self):
        data = self.cleaned_data
        return metrics.Filters(
            source=data.get("source", ""), campaign=data.get("campaign", ""), team=data.get("team"), rep=data.get("rep")
        )

    @property
    def selected_view(self):
        return self.cleaned_data["view"]

    @property
    def selected_as_of(self):
        """The 'as of' instant asked for, or None for now."""
        return self.cleaned_data.get("as_of")

    def error_messages(self):
        """The errors as {field: [message, ...]}, non-field errors under "detail" (DRF's shape)."""
        errors = {name: list(messages) for name, messages in self.errors.items()}
        if "__all__" in errors:
            errors["detail"] = errors.pop("__all__")
        return errors

    def params(self, *, as_of=None, period=None, **extra):
        """The report's query parameters, as the form read them, with ``extra`` ones added (None drops one)."""
        params = dict(self._base_params(as_of or self.selected_as_of, period or self.period))
        params.update(extra)
        return {name: value for name, value in params.items() if value not in (None, "")}

    def _base_params(self, as_of, period):
        # Read once per form for each (as_of, period): a report builds a link per number.
        cache = self.__dict__.setdefault("_base_params_cache", {})
        if (as_of, period) not in cache:
            data = self.cleaned_data
            params = {
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "view": data["view"],
                "tz": data["tz"],
                "as_of": as_of.isoformat() if as_of else None,
                "source": data.get("source") or None,
                "campaign": data.get("campaign") or None,
                "team": data.get("team"),
                "rep": None if self.own_only else data.get("rep"),
            }
            for name in self.EXTRA:
                params[name] = data.get(name) or None
            cache[(as_of, period)] = params
        return cache[(as_of, period)]

    def query(self, **extra):
        # A report links each of its numbers (hundreds in the API's rejection splits) to
        # its leads with mostly the same parameters, so each pair is quoted once per form.
        pairs = self.__dict__.setdefault("_quoted_pairs", {})
        encoded = []
        for name, value in self.params(**extra).items():
            key = (name, str(value))
            if key not in pairs:
                pairs[key] = urlencode({name: value})
            encoded.append(pairs[key])
        return "&".join(encoded)

    def echo(self):
        """The period and filters as read, for the API's answer."""
        period, filters = self.period, self.filters
        return {
            "period": {"from": period.start, "to": period.end, "tz": period.tz, "days": period.days},
            "filters": {
                "source": filters.source,
                "campaign": filters.campaign,
                "team": filters.team,
                "rep": filters.rep,
            },
        }


class DrillDownForm(ReportForm):
    """A report's period and filters plus which number's leads to list."""

    metric = forms.ChoiceField(
        choices=[(name, name) for name in metrics.DRILL_DOWNS],
        error_messages={
            "required": gettext_lazy("Say which report: metric=..."),
            "invalid_choice": gettext_lazy("Unknown metric."),
        },
    )
    bucket = forms.CharField(
        max_length=40,
        error_messages={"required": gettext_lazy("Say which number of the report: bucket=...")},
        label=gettext_lazy("Number"),
    )
    reason = forms.SlugField(required=False, max_length=50, label=gettext_lazy("Reason code"))

    EXTRA = ("metric", "bucket", "reason")

    def clean(self):
        data = super().clean()
        metric, bucket = data.get("metric"), data.get("bucket")
        if metric and bucket and bucket not in metrics.DRILL_DOWNS[metric]:
            choices = ", ".join(metrics.DRILL_DOWNS[metric])
            self.add_error(
                "bucket",
                gettext("Unknown number %(bucket)s for %(metric)s; choose one of %(choices)s.")
                % {"bucket": repr(bucket), "metric": metric, "choices": choices},
            )
        return data

    @property
    def hidden_params(self):
        """Which number the page lists, carried through the filter form as hidden inputs."""
        return [(name, self.data[name]) for name in self.EXTRA if self.data.get(name)]

    def leads(self):
        """Return (title, row kind, queryset) of the chosen number, newest first, ready to list; the form must be valid."""
        data = self.cleaned_data
        title, rows, found = metrics.drill_down(
            data["metric"],
            data["bucket"],
            self.period,
            self.filters,
            view=self.selected_view,
            as_of=self.selected_as_of,
            reason=data.get("reason") or "",
        )
        if rows == metrics.EPISODE_ROWS:
            found = found.select_related("lead", "owner", "rejection_reason").order_by("-mql_at", "-id")
            found = found.annotate(lead_visible=access.lead_is_visible(self.user, "lead_id"))
        else:
            found = found.select_related("owner").order_by("-first_contact", "-id")
            found = found.annotate(lead_visible=access.lead_is_visible(self.user, "pk"))
        return title, rows, found


_YEAR_RANGE = lazy(
    lambda: (
        gettext("Choose a year from %(earliest)s to %(latest)s.")
        % {"earliest": metrics.EARLIEST_YEAR, "latest": metrics.LATEST_YEAR}
    ),
    str,
)()


class TargetMonthsForm(forms.Form):
    """Which months and team the target editor shows."""

    year = forms.IntegerField(
        min_value=metrics.EARLIEST_YEAR,
        max_value=metrics.LATEST_YEAR,
        required=False,
        label=gettext_lazy("Year"),
        error_messages={
            "min_value": _YEAR_RANGE,
            "max_value": _YEAR_RANGE,
            "invalid": gettext_lazy("Give the year as a number, e.g. 2026."),
        },
    )
    team = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label=gettext_lazy("Team"),
        error_messages={"invalid_choice": gettext_lazy("Unknown team.")},
    )
    rep = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label=gettext_lazy("Rep"),
        error_messages={"invalid_choice": gettext_lazy("Unknown rep.")},
    )

    def __init__(self, data=None, *, teams, reps=()):
        super().__init__(data)
        self.fields["team"].choices = [("", gettext("All teams (overall target)")), *((t.pk, t.name) for t in teams)]
        self.fields["rep"].choices = [("", gettext("No rep (a team's or the overall target)")), *reps]

    def clean(self):
        data = super().clean()
        if data.get("team") is not None and data.get("rep") is not None:
            self.add_error("rep", gettext("A target is for a team or for a rep, not both: leave one empty."))
        return data

    def months(self, today):
        year = (self.cleaned_data.get("year") if self.is_valid() else None) or today.year
        return [date(year, month, 1) for month in range(1, 13)]


class TargetsForm(forms.Form):
    """One optional MQL target per month; an empty box removes that month's target."""

    def __init__(self, data=None, *, months, team, current, rep=None):
        super().__init__(data)
        self.months = months
        self.team = team
        self.rep = rep
        for month in months:
            self.fields[self.field_name(month)] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=10_000_000,
                label=formats.date_format(month, "YEAR_MONTH_FORMAT"),
                initial=current.get(month),
                error_messages={
                    "invalid": gettext("Give a whole number of MQLs."),
                    "min_value": gettext("A target cannot be negative."),
                    "max_value": gettext("At most %(limit)s MQLs a month.")
                    % {"limit": formats.number_format(10_000_000, use_l10n=True, force_grouping=True)},
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "step": 1}),
            )

    @staticmethod
    def field_name(month):
        return f"target_{month:%Y_%m}"

    def rows(self):
        return [(month, self[self.field_name(month)]) for month in self.months]

    def save(self, *, by, now=None):
        """Write the targets: create or update the filled months, delete the emptied ones."""
        now = now or timezone.now()
        for month in self.months:
            value = self.cleaned_data[self.field_name(month)]
            existing = MonthlyTarget.objects.filter(month=month, team=self.team, rep=self.rep)
            if value is None:
                existing.delete()
            elif not existing.update(mql_target=value, updated_by=by, updated_at=now):
                MonthlyTarget.objects.create(
                    month=month, team=self.team, rep=self.rep, mql_target=value, updated_by=by, updated_at=now
                )
