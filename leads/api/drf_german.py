"""Django REST framework's own messages that its German catalogue words informally ("Gib ...",
"Stelle sicher ..."): listed here so that ``make messages`` collects them and Funnel's catalogue,
which takes precedence over the packages' (LOCALE_PATHS), gives them in the formal German of
the rest of the API. Nothing imports this module; the English stays DRF's."""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = (
    gettext_noop("Ensure that there are no more than {max_decimal_places} decimal places."),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop("Ensure that there are no more than {max_whole_digits} digits before the decimal point."),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this filename has at most {max_length} characters (it has {length})."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Enter a valid URL."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Expected a datetime but got a date."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop("Incorrect type. Expected URL string, received {data_type}."),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    ngettext_lazy("Expected available in {wait} second.", "Expected available in {wait} seconds."),
)
