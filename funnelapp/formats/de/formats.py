# Eine Datums- und Zeitform je Sprache (siehe en/formats.py); N kürzt Monate wie der Browser
# (Intl, de-DE), so lesen sich Server- und Skriptzeiten gleich:
# "5. Dez. 2026", "5. Dez. 2026, 14:30", "Sa, 5. Dez., 14:30", "14:30", "5. Dez.", "Dezember 2026".
DATE_FORMAT = "j. N Y"
DATETIME_FORMAT = "j. N Y, H:i"
SHORT_DATETIME_FORMAT = "D, j. N, H:i"
SHORT_DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j. N"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
