# One date and time format per language; templates name them (|date:"DATETIME_FORMAT"), never spell one out.
# "5 Dec 2026", "5 Dec 2026, 14:30", "Sat 5 Dec, 14:30", "14:30", "5 Dec", "December 2026".
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "D j M, H:i"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
