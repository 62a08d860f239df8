"""Marketing forms: scoring rules, the MQL threshold, the threshold what-if and the CSV upload.

The rule form is where the matrix's shape rules live (which fields a behaviour
or a demographic rule needs); the database constraints on ``ScoringRule`` back
the structural ones up. Fields that do not apply to the chosen kind of rule are
emptied rather than refused, because the page hides them and the browser still
sends what was typed before the marketer changed their mind.
"""

from django import forms
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from .models import SALES_ACTIVITY_KINDS, ActivityKind, ScoringConfig, ScoringRule

Category = ScoringRule.Category
Field = ScoringRule.Field
Operator = ScoringRule.Operator

BEHAVIOUR_KIND_CHOICES = [(kind.value, kind.label) for kind in ActivityKind if kind not in SALES_ACTIVITY_KINDS]


def _label(text):
    """A model choice's English label in the user's language (the msgids: ``scoring_views.CHOICE_LABELS``)."""
    return gettext(str(text)) if text else text


def _message(message, **values):
    """``message`` (marked with gettext_noop) translated when shown, with ``values`` put in."""
    return lazy(
        lambda: gettext(message) % {name: value() if callable(value) else value for name, value in values.items()}, str
    )()


def _number(value):
    """A number with the user's thousands separator: 10,000,000 or 10.000.000."""
    return lambda: number_format(value, force_grouping=True)


POINTS_LIMIT = 1000
THRESHOLD_LIMIT = 100_000
# Bounds of "is between": company sizes, as the import accepts them.
NUMBER_LIMIT = 10_000_000
RANGE_ERRORS = {
    "min_value": gettext_lazy("Enter a number of 0 or more."),
    "max_value": _message(gettext_noop("Enter a number up to %(limit)s."), limit=_number(NUMBER_LIMIT)),
}
POINTS_RANGE = _message(gettext_noop("Points must be between -%(limit)s and %(limit)s."), limit=POINTS_LIMIT)
THRESHOLD_RANGE = _message(gettext_noop("The threshold must be between 1 and %(limit)s."), limit=THRESHOLD_LIMIT)
THRESHOLD_INVALID = gettext_lazy("The threshold is a whole number of points.")
# Operators that compare the lead's field with the text in "value".
TEXT_OPERATORS = (Operator.CONTAINS, Operator.CONTAINS_ANY, Operator.EQUALS, Operator.ONE_OF)
LIST_OPERATORS = (Operator.CONTAINS_ANY, Operator.ONE_OF)


class ScoringRuleForm(forms.ModelForm):
    activity_kind = forms.ChoiceField(
        label=gettext_lazy("Activity"),
        required=False,
        choices=[("", gettext_lazy("Choose an activity…")), *BEHAVIOUR_KIND_CHOICES],
        error_messages={
            "invalid_choice": gettext_lazy(
                "Choose one of the marketing behaviours listed; sales activities never score."
            )
        },
    )
    points = forms.IntegerField(
        label=gettext_lazy("Points"),
        min_value=-POINTS_LIMIT,
        max_value=POINTS_LIMIT,
        error_messages={
            "required": gettext_lazy("Give the points this rule is worth, e.g. 10 or -20."),
            "invalid": gettext_lazy("Points are a whole number, e.g. 10 or -20."),
            "min_value": POINTS_RANGE,
            "max_value": POINTS_RANGE,
        },
    )
    cap = forms.IntegerField(
        label=gettext_lazy("Cap"),
        required=False,
        min_value=1,
        max_value=100_000,
        help_text=gettext_lazy("The most points (plus or minus) this rule may give one lead. Empty: no cap."),
        error_messages={
            "invalid": gettext_lazy("The cap is a whole number of points."),
            "min_value": gettext_lazy("The cap must be a positive number of points, or empty for no cap."),
            "max_value": gettext_lazy("The cap can be at most 100000 points."),
        },
    )
    half_life_days = forms.IntegerField(
        label=gettext_lazy("Half-life in days"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "Each activity's points halve every this many days (14: +20 is +10 after two weeks). "
            "Empty: points never fade."
        ),
        error_messages={
            "invalid": gettext_lazy("The half-life is a whole number of days, e.g. 14."),
            "min_value": gettext_lazy("The half-life must be at least 1 day, or empty for points that never fade."),
            "max_value": gettext_lazy(
                "The half-life can be at most 3650 days (ten years); leave it empty for no decay."
            ),
        },
    )
    min_value = forms.IntegerField(
        label=gettext_lazy("From"),
        required=False,
        min_value=0,
        max_value=NUMBER_LIMIT,
        error_messages=RANGE_ERRORS | {"invalid": gettext_lazy("Enter a whole number, e.g. 50.")},
    )
    max_value = forms.IntegerField(
        label=gettext_lazy("To"),
        required=False,
        min_value=0,
        max_value=NUMBER_LIMIT,
        error_messages=RANGE_ERRORS | {"invalid": gettext_lazy("Enter a whole number, e.g. 1000.")},
    )

    class Meta:
        model = ScoringRule
        fields = [
            "name",
            "category",
            "activity_kind",
            "url_contains",
            "field",
            "operator",
            "value",
            "min_value",
            "max_value",
            "points",
            "cap",
            "half_life_days",
            "is_active",
        ]
        labels = {
            "name": gettext_lazy("Name"),
            "category": gettext_lazy("Kind of rule"),
            "url_contains": gettext_lazy("Only URLs containing"),
            "field": gettext_lazy("Lead field"),
            "operator": gettext_lazy("Condition"),
            "value": gettext_lazy("Value"),
            "is_active": gettext_lazy("Active (counts towards scores)"),
        }
        help_texts = {
            "url_contains": gettext_lazy("e.g. /pricing or /careers. Empty: any page."),
            "value": gettext_lazy("For “is one of”, separate the values with commas: DE, AT, CH."),
        }
        error_messages = {
            "name": {"required": gettext_lazy("Give the rule a name marketers will recognise.")},
            "category": {
                "required": gettext_lazy("Choose behaviour or demographic."),
                "invalid_choice": gettext_lazy("Choose behaviour or demographic."),
            },
            "field": {"invalid_choice": gettext_lazy("Choose one of the listed lead fields.")},
            "operator": {"invalid_choice": gettext_lazy("Choose one of the listed conditions.")},
        }
        widgets = {
            "category": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(value, _label(text)) for value, text in Category.choices]
        self.fields["activity_kind"].choices = [
            ("", gettext("Choose an activity…")),
            *((value, _label(text)) for value, text in BEHAVIOUR_KIND_CHOICES),
        ]
        self.fields["field"].choices = [
            ("", gettext("Choose a field…")),
            *((value, _label(text)) for value, text in Field.choices),
        ]
        self.fields["operator"].choices = [
            ("", gettext("Choose a condition…")),
            *((value, _label(text)) for value, text in Operator.choices),
        ]
        # Required for one kind of rule only (checked in clean); the page shows them without "(optional)".
        for name in ("activity_kind", "field", "operator", "value"):
            self.fields[name].required_when = True
        self.fields["name"].widget.attrs["placeholder"] = gettext("e.g. Visited the pricing page")

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(
                gettext("A rule worth 0 points changes nothing: give it points, or deactivate it.")
            )
        return points

    def clean(self):
        data = super().clean()
        category = data.get("category")
        if category == Category.BEHAVIOUR:
            self._clean_behaviour(data)
        elif category == Category.DEMOGRAPHIC:
            self._clean_demographic(data)
        return data

    def _clean_behaviour(self, data):
        kind = data.get("activity_kind")
        if not kind and "activity_kind" not in self.errors:
            self.add_error("activity_kind", gettext("A behaviour rule needs the activity it counts."))
        data["url_contains"] = (data.get("url_contains") or "").strip()
        if data["url_contains"] and kind and kind != ActivityKind.WEBSITE_VISIT:
            self.add_error(
                "url_contains", gettext("A URL pattern only applies to website visits: empty it or count visits.")
            )
        data.update(field="", operator="", value="", min_value=None, max_value=None)

    def _clean_demographic(self, data):
        # A trait does not fade: demographic rules never decay.
        data.update(activity_kind="", url_contains="", half_life_days=None)
        field, operator = data.get("field"), data.get("operator")
        if not field and "field" not in self.errors:
            self.add_error("field", gettext("A demographic rule needs the lead field it looks at."))
        if not operator and "operator" not in self.errors:
            self.add_error("operator", gettext("A demographic rule needs a condition."))
        value = " ".join((data.get("value") or "").split())
        if operator in TEXT_OPERATORS:
            data.update(min_value=None, max_value=None)
            if operator in LIST_OPERATORS:
                items = [item.strip() for item in value.split(",") if item.strip()]
                if not items:
                    example = gettext("VP, Head of, Director") if operator == Operator.CONTAINS_ANY else "DE, AT, CH"
                    self.add_error(
                        "value",
                        gettext("List the values to match, separated by commas, e.g. %(example)s.")
                        % {"example": example},
                    )
                value = ", ".join(items)
            elif not value:
                self.add_error("value", gettext("Enter the text to compare the field with."))
            data["value"] = value
        elif operator == Operator.BETWEEN:
            data["value"] = ""
            self._clean_range(data, field)
        elif operator == Operator.FREE_MAIL:
            data.update(value="", min_value=None, max_value=None)
            if field and field != Field.EMAIL_DOMAIN:
                self.add_error(
                    "field", gettext("The free-mail check looks at the e-mail domain: choose E-mail domain.")
                )

    def _clean_range(self, data, field):
        if field and field != Field.COMPANY_SIZE:
            self.add_error("operator", gettext("“Is between” compares numbers: only Company size is a number."))
        low, high = data.get("min_value"), data.get("max_value")
        if "min_value" in self.errors or "max_value" in self.errors:
            return
        if low is None and high is None:
            self.add_error("min_value", gettext("Give at least one bound: from, to, or both."))
        elif low is not None and high is not None and low > high:
            self.add_error(
                "max_value", gettext("“To” (%(high)s) must not be below “From” (%(low)s).") % {"high": high, "low": low}
            )


class ThresholdForm(forms.ModelForm):
    mql_threshold = forms.IntegerField(
        label=gettext_lazy("Score that makes an MQL"),
        min_value=1,
        max_value=THRESHOLD_LIMIT,
        help_text=gettext_lazy("A lead still with marketing becomes an MQL when its score reaches this."),
        error_messages={
            "required": gettext_lazy("Give the score at which a lead becomes an MQL."),
            "invalid": THRESHOLD_INVALID,
            "min_value": THRESHOLD_RANGE,
            "max_value": THRESHOLD_RANGE,
        },
    )

    class Meta:
        model = ScoringConfig
        fields = ["mql_threshold"]


class WhatIfForm(forms.Form):
    threshold = forms.IntegerField(
        label=gettext_lazy("Candidate threshold"),
        min_value=1,
        max_value=THRESHOLD_LIMIT,
        error_messages={
            "required": gettext_lazy("Give the threshold to try."),
            "invalid": THRESHOLD_INVALID,
            "min_value": THRESHOLD_RANGE,
            "max_value": THRESHOLD_RANGE,
        },
    )
    weeks = forms.IntegerField(
        label=gettext_lazy("Weeks to replay"),
        min_value=1,
        max_value=52,
        initial=8,
        error_messages={
            "required": gettext_lazy("Give the number of weeks to replay (1 to 52)."),
            "invalid": gettext_lazy("Weeks are a whole number from 1 to 52."),
            "min_value": gettext_lazy("Replay at least 1 week."),
            "max_value": gettext_lazy("Replay at most 52 weeks."),
        },
    )


class ImportUploadForm(forms.Form):
    """The CSV file; the column mapping arrives as ``map-<n>`` fields and is checked by the view against the file."""

    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        error_messages={
            "required": gettext_lazy("Choose a CSV file to import."),
            "empty": gettext_lazy("The file is empty: choose a CSV file with a header row and at least one lead."),
            "invalid": gettext_lazy("Choose a CSV file to import."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt", ".tsv")):
            raise forms.ValidationError(
                gettext("“%(name)s” is not a CSV file: export the sheet as .csv and try again.") % {"name": upload.name}
            )
        return upload
