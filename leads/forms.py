"""Browser forms: each turns a POST into the keyword arguments of one transition.

A form's ``cleaned_data`` carries exactly the keywords its function in
``leads.transitions`` takes, so a view calls
``transitions.reject_lead(lead, by=user, **form.cleaned_data)``. The forms
only check the shape of the input; the transitions enforce the rules.
"""

import functools
import zoneinfo
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .company_sizes import CompanySizeError, parse_company_size
from .models import (
    SALES_ACTIVITY_KINDS,
    ActivityKind,
    Lead,
    NotificationPreferences,
    OptOut,
    OutOfOffice,
    RejectionReason,
    Team,
    UserProfile,
)
from .models.leads import FIELD_LABELS
from .transitions import EDITABLE_FIELDS, MAX_NOTE_LENGTH

SALES_ACTIVITY_CHOICES = [(kind.value, ActivityKind(kind).label) for kind in SALES_ACTIVITY_KINDS]


def person_label(user):
    return user.get_full_name() or user.get_username()


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


MAX_VERSION = 2**31 - 1  # the lead's version column is an integer
STALE_PAGE = _("This page is out of date: reload it and try again.")


class VersionField(forms.IntegerField):
    """The version of the lead the page showed; the transition refuses the action if the lead changed since."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        messages = {"invalid": STALE_PAGE, "min_value": STALE_PAGE, "max_value": STALE_PAGE}
        super().__init__(min_value=0, max_value=MAX_VERSION, error_messages=messages, **kwargs)


class NoteForm(forms.Form):
    """Accept, qualify and recycle: an optional note. Every action form carries the version the
    page showed (our pages always send it; without one the action is checked against the lead as it is)."""

    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE_LENGTH,
        error_messages={"max_length": _("The note is too long (at most %(limit_value)d characters).")},
    )
    version = VersionField(required=False)


class ReasonForm(NoteForm):
    """Reject and disqualify: a reason code (required) and a note."""

    reason = forms.ModelChoiceField(
        queryset=RejectionReason.objects.filter(is_active=True),
        to_field_name="code",
        error_messages={
            "required": _("A rejection reason is required."),
            "invalid_choice": _("Choose one of the listed rejection reasons."),
        },
    )


class OptOutForm(forms.Form):
    """Record an opt-out: how it reached us."""

    source = forms.ChoiceField(
        choices=OptOut.Source.choices,
        error_messages={
            "required": _("Choose how the opt-out reached us."),
            "invalid_choice": _("Choose one of the listed ways the opt-out reached us."),
        },
    )
    version = VersionField(required=False)


class UndoForm(forms.Form):
    """Undo the last accept, reject or qualify: only the version the page showed."""

    version = VersionField(required=False)


class EraseForm(forms.Form):
    """Erase a person's data: only with the box ticked, since it cannot be undone."""

    confirm = forms.BooleanField(
        error_messages={"required": _("Tick the box to confirm: erasing a person's data cannot be undone.")}
    )
    version = VersionField(required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned.pop("confirm", None)  # the transition takes no such keyword
        return cleaned


class ActivityForm(NoteForm):
    """Log a sales activity."""

    kind = forms.ChoiceField(
        choices=SALES_ACTIVITY_CHOICES,
        error_messages={
            "required": _("Choose the kind of activity."),
            "invalid_choice": _("Choose a call, e-mail, meeting or conversation."),
        },
    )


class ReassignForm(NoteForm):
    """Give a lead to another rep; the transition checks the rep belongs to the lead's team."""

    to = PersonChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={
            "required": _("Choose the rep to give this lead to."),
            "invalid_choice": _("Choose one of the team's reps."),
        },
    )


class BulkReassignForm(ReassignForm):
    """Give the leads ticked on /leads/ to one rep; each lead is checked on its own."""

    version = None  # each lead is reassigned as it is now: the list showed many versions
    leads = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": _("Tick the leads to reassign."), "invalid_choice": _("Tick leads from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the view reads only the ones the user may see.
        ids = self.data.getlist("leads") if hasattr(self.data, "getlist") else []
        self.fields["leads"].choices = [(value, value) for value in ids if str(value).isdecimal() and len(value) < 19]


class PromoteForm(NoteForm):
    """Promote a lead to MQL by hand, optionally routing it to a chosen team."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.filter(is_active=True),
        required=False,
        empty_label=_("The lead's own team"),
        error_messages={"invalid_choice": _("Choose one of the active teams.")},
    )


class MergeForm(NoteForm):
    """Merge a lead into another as its duplicate: the survivor's id, among the leads the user sees."""

    into = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "required": _("Give the id of the lead to merge into."),
            "invalid": _("Give a lead id (a number)."),
        },
    )

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.leads = leads

    def clean_into(self):
        survivor = self.leads.filter(pk=self.cleaned_data["into"]).first()
        if survivor is None:
            raise forms.ValidationError(_("No lead you can see has this id."))
        return survivor


class LeadDetailsForm(forms.ModelForm):
    """A lead's details, for ``transitions.update_lead``; ``version`` is what the page showed."""

    version = VersionField()
    company_size = forms.CharField(
        required=False,
        max_length=80,
        label=_("Company size"),
        help_text=_("Number of employees or a range: 250, 51-200, 1,001-5,000, 10k+."),
    )
    country = forms.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        max_length=2,
        label=_("Country"),
        help_text=_("Two-letter ISO code, e.g. DE."),
        error_messages={"invalid": _("Use a two-letter ISO 3166-1 country code, e.g. DE.")},
    )

    class Meta:
        model = Lead
        fields = EDITABLE_FIELDS
        labels = {name: label for name, label in FIELD_LABELS.items() if name in EDITABLE_FIELDS}

    def clean_company_size(self):
        try:
            return parse_company_size(self.cleaned_data["company_size"])[0]
        except CompanySizeError as error:
            raise forms.ValidationError(error.sentence) from None

    def clean_country(self):
        return self.cleaned_data["country"].upper()

    def _post_clean(self):
        # The form checks the shape of each value; uniqueness and the rest are the transition's.
        pass

    def changes(self):
        """The keyword arguments of ``update_lead``: the fields the user changed, and the version."""
        fields = {name: self.cleaned_data[name] for name in self.changed_data if name in EDITABLE_FIELDS}
        return {"version": self.cleaned_data["version"], **fields}


class RejectedFilterForm(forms.Form):
    """Filters of the rejected-leads review; the choices come from the leads the user may see."""

    reason = forms.ModelChoiceField(
        queryset=RejectionReason.objects.all(),
        to_field_name="code",
        required=False,
        label=_("Reason"),
        empty_label=_("Any reason"),
        error_messages={"invalid_choice": _("Unknown rejection reason.")},
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, error_messages={"invalid_choice": _("Unknown source.")}
    )
    campaign = forms.ChoiceField(
        label=_("Campaign"), required=False, error_messages={"invalid_choice": _("Unknown campaign.")}
    )
    rep = PersonChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label=_("Rep"),
        empty_label=_("Any rep"),
        error_messages={"invalid_choice": _("Unknown rep.")},
    )

    # form field -> Lead lookup
    LOOKUPS = {"reason": "rejection_reason", "source": "source", "campaign": "campaign", "rep": "owner"}

    def __init__(self, data=None, *, leads):
        super().__init__(data)
        # The standard reasons in the user's language; a reason an admin added, as typed.
        self.fields["reason"].label_from_instance = lambda reason: gettext(reason.label)
        self.fields["source"].choices = [("", _("Any source")), *_distinct_choices(leads, "source")]
        self.fields["campaign"].choices = [("", _("Any campaign")), *_distinct_choices(leads, "campaign")]
        self.fields["rep"].queryset = (
            get_user_model().objects.filter(pk__in=leads.values("owner")).order_by("first_name", "username")
        )

    def filter(self, leads):
        """Return ``leads`` narrowed by the chosen filters; nothing when a filter is invalid."""
        if not self.is_bound:
            return leads
        if not self.is_valid():
            return leads.none()
        chosen = {self.LOOKUPS[name]: value for name, value in self.cleaned_data.items() if value not in (None, "")}
        return leads.filter(**chosen)


def _distinct_choices(leads, field):
    values = leads.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()
    return [(value, value) for value in values]


class NotificationPreferencesForm(forms.ModelForm):
    """Channels per kind of notice and quiet hours (the model's constraint wants both ends or neither)."""

    class Meta:
        model = NotificationPreferences
        fields = [
            "quiet_from",
            "quiet_until",
            "new_mql_email",
            "new_mql_chat",
            "sla_risk_email",
            "sla_risk_chat",
            "sla_breach_email",
            "sla_breach_chat",
        ]
        widgets = {
            "quiet_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"quiet_from": _("Quiet from"), "quiet_until": _("until")}


class OutOfOfficeForm(forms.ModelForm):
    """A rep's own out-of-office period: routing skips them while it lasts."""

    # An absence longer than a year is a leaver: deactivate the user instead.
    MAX_DAYS = 366

    class Meta:
        model = OutOfOffice
        fields = ["starts_at", "ends_at", "note", "hand_on"]
        labels = {
            "starts_at": _("Away from"),
            "ends_at": _("Back on"),
            "hand_on": _("Hand on my open MQLs when it starts"),
            "note": _("Note"),
        }
        help_texts = {"hand_on": _("When the period starts, give this rep's open MQLs to the rest of the team.")}
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", _("The period must end after it starts."))
            elif ends <= self.now:
                self.add_error("ends_at", _("This period is over already."))
            elif (ends - starts).days > self.MAX_DAYS:
                self.add_error(
                    "ends_at",
                    _("At most %(days)d days; for a longer absence ask an admin.") % {"days": self.MAX_DAYS},
                )
            elif (starts - self.now).days > 2 * 365:
                self.add_error("starts_at", _("Enter a start within the next two years."))
        return cleaned


class FairnessForm(forms.Form):
    """The routing fairness report's team and period (dates in the user's time zone)."""

    MAX_DAYS = 366

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, teams, today):
        data = data.copy() if data else {}
        for name, value in (("date_from", today - timedelta(days=29)), ("date_to", today)):
            data.setdefault(name, value.isoformat())
        if teams and "team" not in data:
            data["team"] = teams[0].pk
        super().__init__(data)
        self.fields["team"].queryset = Team.objects.filter(pk__in=[team.pk for team in teams])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", gettext("The period must end on or after its first day."))
            elif (end - start).days >= self.MAX_DAYS:
                self.add_error("date_to", gettext("Choose at most %(days)d days.") % {"days": self.MAX_DAYS})
            elif start.year < 2000 or end.year > 2100:
                self.add_error("date_from", gettext("Choose dates between 2000 and 2100."))
        return cleaned


def time_zone_choices():
    """Every IANA zone the tz database knows, by name (cached: the set does not change while running)."""
    global _TIME_ZONE_CHOICES
    if _TIME_ZONE_CHOICES is None:
        names = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
        _TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in names]
    return _TIME_ZONE_CHOICES


_TIME_ZONE_CHOICES = None


@functools.cache
def time_zone_names():
    """The zone names of ``time_zone_choices``, as a set for membership tests."""
    return frozenset(name for name, _label in time_zone_choices())


class UserProfileForm(forms.ModelForm):
    """The user's language (or the browser's) and time zone."""

    # Zone names are identifiers (the tz database's, in English): translate="no" keeps browsers from translating them.
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=time_zone_choices, widget=forms.Select(attrs={"translate": "no"})
    )

    class Meta:
        model = UserProfile
        fields = ["language", "time_zone"]
        labels = {"language": _("Language")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The browser's language")), *settings.LANGUAGES]
        if not self.initial.get("time_zone"):
            self.initial["time_zone"] = "UTC"
