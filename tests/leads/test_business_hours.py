import time as clock
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.business_hours import BusinessCalendar, due_at, is_working_moment, working_time_between

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")

MONDAY_TO_FRIDAY = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def office(zone="Europe/Berlin", *, days=MONDAY_TO_FRIDAY, opens=time(9), closes=time(17), holidays=()):
    return BusinessCalendar(zone, frozenset(days), opens, closes, frozenset(holidays))


def at(zone, *args, fold=0):
    # In UTC because an aware datetime inside a repeated hour never equals one in another zone (PEP 495).
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def hours(n):
    return timedelta(hours=n)


# Hand-checked examples (2024-05-03 is a Friday; Berlin is on CEST, UTC+2).


def test_one_hour_from_friday_afternoon_is_due_monday_morning():
    assert due_at(at(BERLIN, 2024, 5, 3, 16, 30), hours(1), office()) == at(BERLIN, 2024, 5, 6, 9, 30)


def test_window_used_up_exactly_at_closing_is_due_at_closing():
    assert due_at(at(BERLIN, 2024, 5, 3, 16), hours(1), office()) == at(BERLIN, 2024, 5, 3, 17)


def test_start_exactly_at_closing_starts_the_clock_next_working_morning():
    assert due_at(at(BERLIN, 2024, 5, 2, 17), hours(1), office()) == at(BERLIN, 2024, 5, 3, 10)


def test_start_before_opening_starts_the_clock_at_opening():
    assert due_at(at(BERLIN, 2024, 5, 2, 6, 45), hours(1), office()) == at(BERLIN, 2024, 5, 2, 10)


def test_start_on_a_weekend_starts_the_clock_on_monday():
    assert due_at(at(BERLIN, 2024, 5, 4, 11), hours(1), office()) == at(BERLIN, 2024, 5, 6, 10)


def test_start_on_a_holiday_starts_the_clock_on_the_next_working_day():
    calendar = office(holidays={date(2024, 5, 1)})
    assert due_at(at(BERLIN, 2024, 5, 1, 11), hours(1), calendar) == at(BERLIN, 2024, 5, 2, 10)


def test_holiday_is_a_local_date_not_a_utc_date():
    # 23:30 UTC on April 30 is already May 1 (the holiday) in Berlin, but still April 30 in New York.
    start, may_day = utc(2024, 4, 30, 23, 30), {date(2024, 5, 1)}
    berlin = office(opens=time(0, 30), closes=time(22), holidays=may_day)
    new_york = office("America/New_York", opens=time(0, 30), closes=time(22), holidays=may_day)
    assert due_at(start, hours(1), berlin) == at(BERLIN, 2024, 5, 2, 1, 30)
    assert due_at(start, hours(1), new_york) == at(NEW_YORK, 2024, 4, 30, 20, 30)


def test_two_business_days_from_wednesday_are_due_friday_at_the_same_time():
    assert due_at(at(BERLIN, 2024, 5, 8, 11), hours(16), office()) == at(BERLIN, 2024, 5, 10, 11)


def test_two_business_days_skip_a_holiday_and_the_weekend():
    calendar = office(holidays={date(2024, 5, 9)})
    assert due_at(at(BERLIN, 2024, 5, 8, 11), hours(16), calendar) == at(BERLIN, 2024, 5, 13, 11)


def test_two_business_days_from_friday_noon_end_at_tuesday_noon():
    assert due_at(at(BERLIN, 2024, 5, 3, 12), hours(16), office()) == at(BERLIN, 2024, 5, 7, 12)


def test_same_instant_gives_different_due_times_in_different_zones():
    start = utc(2024, 5, 3, 14, 30)  # Friday: 16:30 Berlin, 10:30 New York, 20:00 Kolkata
    assert due_at(start, hours(1), office("Europe/Berlin")) == at(BERLIN, 2024, 5, 6, 9, 30)
    assert due_at(start, hours(1), office("America/New_York")) == at(NEW_YORK, 2024, 5, 3, 11, 30)
    assert due_at(start, hours(1), office("Asia/Kolkata")) == at(KOLKATA, 2024, 5, 6, 10)


def test_half_hour_offset_zone_opens_at_local_nine():
    calendar = office("Asia/Kolkata")
    assert due_at(utc(2024, 5, 6, 3, 0), hours(1), calendar) == utc(2024, 5, 6, 4, 30)
    assert not is_working_moment(utc(2024, 5, 6, 3, 29), calendar)
    assert is_working_moment(utc(2024, 5, 6, 3, 30), calendar)


def test_start_in_another_zone_than_the_calendar_is_the_same_instant():
    # 10:30 in New York is 16:30 in Berlin: half an hour left on Friday, the rest on Monday.
    start = datetime(2024, 5, 3, 10, 30, tzinfo=NEW_YORK)
    assert due_at(start, hours(1), office()) == at(BERLIN, 2024, 5, 6, 9, 30)


def test_due_time_is_returned_in_utc():
    due = due_at(datetime(2024, 5, 3, 16, tzinfo=BERLIN), hours(1), office())
    assert due.tzinfo is UTC
    assert due == utc(2024, 5, 3, 15)


def test_round_the_clock_adds_real_elapsed_time_across_a_clock_change():
    # Berlin springs forward in the night to 2024-03-31: 24 real hours later the wall clock says 13:00.
    due = due_at(datetime(2024, 3, 30, 12, tzinfo=BERLIN), hours(24), None)
    assert due == at(BERLIN, 2024, 3, 31, 13)
    assert due.tzinfo is UTC


def test_round_the_clock_counts_every_moment_as_working_time():
    assert is_working_moment(at(BERLIN, 2024, 5, 4, 3), None)
    start, end = datetime(2024, 10, 26, 12, tzinfo=BERLIN), datetime(2024, 10, 27, 12, tzinfo=BERLIN)
    assert working_time_between(start, end, None) == hours(25)


# Clock changes inside working hours. Berlin springs forward on Sunday 2024-03-31 at
# 02:00 CET -> 03:00 CEST (01:00 UTC) and falls back on Sunday 2024-10-27 at 03:00 CEST
# -> 02:00 CET (01:00 UTC).


def test_spring_forward_day_is_an_hour_shorter():
    calendar = office(days=EVERY_DAY, opens=time(1), closes=time(5))
    assert working_time_between(at(BERLIN, 2024, 3, 31, 0), at(BERLIN, 2024, 3, 31, 6), calendar) == hours(3)
    assert due_at(at(BERLIN, 2024, 3, 31, 1), hours(2), calendar) == at(BERLIN, 2024, 3, 31, 4)
    assert due_at(at(BERLIN, 2024, 3, 31, 1), hours(3), calendar) == at(BERLIN, 2024, 3, 31, 5)
    assert due_at(at(BERLIN, 2024, 3, 31, 1), hours(4), calendar) == at(BERLIN, 2024, 4, 1, 2)


def test_fall_back_day_is_an_hour_longer():
    calendar = office(days=EVERY_DAY, opens=time(1), closes=time(5))
    assert working_time_between(at(BERLIN, 2024, 10, 27, 0), at(BERLIN, 2024, 10, 27, 6), calendar) == hours(5)
    assert due_at(at(BERLIN, 2024, 10, 27, 1), hours(5), calendar) == at(BERLIN, 2024, 10, 27, 5)
    # 02:30 happens twice; two real hours after opening is the first one.
    assert due_at(at(BERLIN, 2024, 10, 27, 1), hours(1.5), calendar) == at(BERLIN, 2024, 10, 27, 2, 30, fold=0)
    assert due_at(at(BERLIN, 2024, 10, 27, 1), hours(2.5), calendar) == at(BERLIN, 2024, 10, 27, 2, 30, fold=1)


def test_opening_inside_the_spring_forward_gap_opens_at_the_clock_change():
    # 02:30 never happens; the first instant whose wall clock reads 02:30 or later is 03:00 CEST.
    calendar = office(days=EVERY_DAY, opens=time(2, 30), closes=time(5))
    assert working_time_between(at(BERLIN, 2024, 3, 31, 0), at(BERLIN, 2024, 3, 31, 6), calendar) == hours(2)
    assert due_at(at(BERLIN, 2024, 3, 30, 22), hours(1), calendar) == at(BERLIN, 2024, 3, 31, 4)


def test_closing_inside_the_spring_forward_gap_closes_at_the_clock_change():
    calendar = office(days=EVERY_DAY, opens=time(1), closes=time(2, 30))
    assert working_time_between(at(BERLIN, 2024, 3, 31, 0), at(BERLIN, 2024, 3, 31, 6), calendar) == hours(1)
    assert due_at(at(BERLIN, 2024, 3, 31, 1), hours(1), calendar) == utc(2024, 3, 31, 1)


def test_repeated_hour_across_opening_is_working_only_where_the_wall_clock_is_open():
    # Open from 02:30: 02:30-03:00 CEST works, the clock goes back to 02:00 CET, 02:00-02:30 CET
    # is before opening again, then 02:30 CET to 05:00 works.
    calendar = office(days=EVERY_DAY, opens=time(2, 30), closes=time(5))
    assert working_time_between(at(BERLIN, 2024, 10, 27, 0), at(BERLIN, 2024, 10, 27, 6), calendar) == hours(3)
    assert not is_working_moment(at(BERLIN, 2024, 10, 27, 2, 15, fold=1), calendar)
    assert due_at(at(BERLIN, 2024, 10, 27, 2, 30), hours(1), calendar) == at(BERLIN, 2024, 10, 27, 3)


def test_repeated_hour_across_closing_works_again_after_the_clock_goes_back():
    # Close at 02:30: work until 02:30 CEST, pause, then 02:00-02:30 CET is open again.
    calendar = office(days=EVERY_DAY, opens=time(1), closes=time(2, 30))
    assert working_time_between(at(BERLIN, 2024, 10, 27, 0), at(BERLIN, 2024, 10, 27, 6), calendar) == hours(2)
    assert due_at(at(BERLIN, 2024, 10, 27, 1), hours(1.5), calendar) == at(BERLIN, 2024, 10, 27, 2, 30)
    assert due_at(at(BERLIN, 2024, 10, 27, 1), hours(1.75), calendar) == at(BERLIN, 2024, 10, 27, 2, 15, fold=1)


def test_lord_howe_half_hour_clock_changes():
    # Lord Howe Island moves its clocks by 30 minutes at 02:00 local time.
    calendar = office("Australia/Lord_Howe", days=EVERY_DAY, opens=time(1), closes=time(5))
    fall_back, spring_forward = date(2024, 4, 7), date(2024, 10, 6)
    for day, working in [(fall_back, hours(4.5)), (spring_forward, hours(3.5))]:
        start, end = datetime.combine(day, time(0), LORD_HOWE), datetime.combine(day, time(6), LORD_HOWE)
        assert working_time_between(start, end, calendar) == working
    assert due_at(at(LORD_HOWE, 2024, 10, 6, 1), hours(3.5), calendar) == at(LORD_HOWE, 2024, 10, 6, 5)


def test_a_local_date_that_never_happened_has_no_working_time():
    # Samoa skipped Friday 2011-12-30 when it crossed the date line.
    calendar = office("Pacific/Apia")
    assert due_at(at(APIA, 2011, 12, 29, 16), hours(2), calendar) == at(APIA, 2012, 1, 2, 10)


# Bad input and limits.


@pytest.mark.parametrize(
    "call",
    [
        lambda: due_at(datetime(2024, 5, 3, 16), hours(1), office()),
        lambda: due_at(datetime(2024, 5, 3, 16), hours(1), None),
        lambda: is_working_moment(datetime(2024, 5, 3, 16), office()),
        lambda: working_time_between(datetime(2024, 5, 3), utc(2024, 5, 4), office()),
        lambda: working_time_between(utc(2024, 5, 3), datetime(2024, 5, 4), office()),
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("window", [timedelta(0), -hours(1)])
def test_window_must_be_positive(window):
    with pytest.raises(ValueError, match="must be positive"):
        due_at(utc(2024, 5, 3, 12), window, office())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": set()}, "at least one working day"),
        ({"days": {7}}, "0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"zone": "Mars/Olympus_Mons"}, "Unknown time zone"),
        ({"zone": "../etc/passwd"}, "Unknown time zone"),
        ({"opens": time(17), "closes": time(9)}, "must be before closing"),
        ({"opens": time(9), "closes": time(9)}, "must be before closing"),
        ({"opens": time(9, tzinfo=UTC)}, "without a time zone"),
        ({"holidays": {datetime(2024, 5, 1)}}, "must be dates"),
    ],
)
def test_invalid_calendars_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        office(**kwargs)


def test_calendar_is_hashable_and_compares_by_value():
    assert office(days=[0, 1, 2, 3, 4]) == office()
    assert len({office(), office()}) == 1


def test_calendar_without_working_time_for_ten_years_raises_instead_of_looping():
    mondays = {date(2024, 1, 1) + timedelta(weeks=n) for n in range(11 * 53)}
    with pytest.raises(ValueError, match="no working time in the ten years"):
        due_at(utc(2024, 1, 1), hours(1), office("UTC", days={0}, holidays=mondays))


def test_long_holiday_stretch_is_skipped_to_the_next_working_day():
    mondays = {date(2024, 1, 1) + timedelta(weeks=n) for n in range(5 * 52)}
    due = due_at(utc(2024, 1, 1), hours(1), office("UTC", days={0}, holidays=mondays))
    assert due == utc(2024, 1, 1, 10) + timedelta(weeks=5 * 52)


@pytest.mark.parametrize(
    "call",
    [
        lambda: due_at(utc(9999, 12, 1), timedelta(days=30), office("UTC")),
        lambda: due_at(datetime.max.replace(tzinfo=UTC), hours(1), None),
        lambda: due_at(datetime.min.replace(tzinfo=UTC), hours(1), office("America/New_York")),
        lambda: due_at(datetime.min.replace(tzinfo=KOLKATA), hours(1), office()),
        lambda: is_working_moment(datetime.min.replace(tzinfo=UTC), office("America/New_York")),
        lambda: working_time_between(utc(9999, 12, 1), datetime.max.replace(tzinfo=UTC), office()),
    ],
)
def test_absurd_dates_are_rejected_instead_of_overflowing(call):
    with pytest.raises(ValueError, match="between the years 1 and 9999"):
        call()


def test_a_year_of_business_days_is_computed_exactly_and_fast():
    # 365 days of working time = 1095 eight-hour days = 219 weeks, ending on a Friday at closing.
    begun = clock.perf_counter()
    due = due_at(utc(2024, 1, 1, 9), timedelta(days=365), office("UTC"))
    elapsed = clock.perf_counter() - begun
    assert due == utc(2024, 1, 1, 17) + timedelta(weeks=218, days=4)
    assert elapsed < 1


def test_working_time_between_counts_down_the_business_time_left():
    start = at(BERLIN, 2024, 5, 3, 16, 30)
    due = due_at(start, hours(2), office())
    assert working_time_between(at(BERLIN, 2024, 5, 4, 12), due, office()) == hours(1.5)
    assert working_time_between(due, start, office()) == timedelta(0)


# Properties against a brute-force reference written straight from the definition.
# Starts, windows, opening hours and every zone's clock changes fall on whole minutes,
# so a minute [t, t + 1 min) is either all working time or none of it.

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",  # -03:30 with DST
    "America/Santiago",  # clock changes at midnight
    "America/Havana",  # clock changes at midnight
    "Africa/Casablanca",  # DST suspended during Ramadan
    "Asia/Kolkata",
    "Asia/Kathmandu",  # +05:45
    "Asia/Tehran",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 2011-12-30
]
FIRST_DAY, LAST_DAY = date(2010, 1, 1), date(2030, 12, 31)
MINUTE = timedelta(minutes=1)


@cache
def days_with_a_clock_change(zone_name):
    zone = ZoneInfo(zone_name)
    days, noon = [], datetime.combine(FIRST_DAY, time(12), UTC)
    previous = noon.astimezone(zone).utcoffset()
    while noon.date() < LAST_DAY:
        noon += timedelta(days=1)
        offset = noon.astimezone(zone).utcoffset()
        if offset != previous:
            days.append(noon.date())
        previous = offset
    return days


quarter_hours = st.integers(0, 24 * 4 - 1).map(lambda n: time(n // 4, n % 4 * 15))
night_times = st.sampled_from([time(0), time(1), time(1, 30), time(2), time(2, 30), time(3), time(23, 45)])


@st.composite
def calendars_and_starts(draw):
    zone_name = draw(st.sampled_from(ZONES))
    change_days = days_with_a_clock_change(zone_name)
    if change_days and draw(st.booleans()):
        around = datetime.combine(draw(st.sampled_from(change_days)), time(0), UTC)
        start = around + draw(st.integers(-3 * 24 * 60, 2 * 24 * 60)) * MINUTE
    else:
        start = datetime.combine(FIRST_DAY, time(0), UTC)
        start += draw(st.integers(0, (LAST_DAY - FIRST_DAY).days * 24 * 60)) * MINUTE
    opens, closes = sorted(draw(st.lists(st.one_of(quarter_hours, night_times), min_size=2, max_size=2, unique=True)))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    local_day = start.astimezone(ZoneInfo(zone_name)).date()
    holidays = draw(st.frozensets(st.integers(-1, 10).map(lambda n: local_day + timedelta(days=n)), max_size=3))
    return BusinessCalendar(zone_name, days, opens, closes, holidays), start


def daily_minutes(calendar):
    return (datetime.combine(FIRST_DAY, calendar.closes) - datetime.combine(FIRST_DAY, calendar.opens)) // MINUTE


def reference_due_at(start, window_minutes, calendar):
    moment, used = start, 0
    while True:
        if is_working_moment(moment, calendar):
            used += 1
            if used == window_minutes:
                return moment + MINUTE
        moment += MINUTE


def reference_working_minutes(start, end, calendar):
    count, moment = 0, start
    while moment < end:
        count += is_working_moment(moment, calendar)
        moment += MINUTE
    return count


brute_force = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
algebra = settings(max_examples=300, deadline=None)


@brute_force
@given(calendars_and_starts(), st.floats(0, 1.5))
def test_due_at_matches_the_minute_by_minute_reference(calendar_and_start, days_of_work):
    calendar, start = calendar_and_start
    window_minutes = max(1, round(days_of_work * daily_minutes(calendar)))
    expected = reference_due_at(start, window_minutes, calendar)
    assert due_at(start, window_minutes * MINUTE, calendar) == expected


@brute_force
@given(calendars_and_starts(), st.integers(0, 3 * 24 * 60))
def test_working_time_between_matches_the_minute_by_minute_reference(calendar_and_start, span_minutes):
    calendar, start = calendar_and_start
    end = start + span_minutes * MINUTE
    expected = reference_working_minutes(start, end, calendar) * MINUTE
    assert working_time_between(start, end, calendar) == expected


microseconds = st.integers(0, 60 * 1_000_000 - 1).map(lambda n: timedelta(microseconds=n))


@algebra
@given(calendars_and_starts(), microseconds, st.integers(1, 40 * 24 * 3600 * 1_000_000))
def test_working_time_from_start_to_due_is_exactly_the_window(calendar_and_start, jitter, window_us):
    calendar, start = calendar_and_start
    start += jitter
    window = timedelta(microseconds=window_us)
    due = due_at(start, window, calendar)
    assert due > start
    assert working_time_between(start, due, calendar) == window


@algebra
@given(calendars_and_starts(), microseconds, st.integers(1, 5 * 24 * 3600 * 1_000_000))
def test_due_time_is_the_earliest_instant_the_window_is_used_up(calendar_and_start, jitter, window_us):
    calendar, start = calendar_and_start
    start += jitter
    window = timedelta(microseconds=window_us)
    just_before = due_at(start, window, calendar) - timedelta(microseconds=1)
    assert is_working_moment(just_before, calendar)
    assert working_time_between(start, just_before, calendar) == window - timedelta(microseconds=1)


@algebra
@given(calendars_and_starts(), st.integers(1, 10**11), st.integers(1, 10**11))
def test_due_time_never_moves_earlier_for_a_longer_window(calendar_and_start, a_us, b_us):
    calendar, start = calendar_and_start
    shorter, longer = sorted([timedelta(microseconds=a_us), timedelta(microseconds=b_us)])
    assert start <= due_at(start, shorter, calendar) <= due_at(start, longer, calendar)


@algebra
@given(calendars_and_starts(), st.integers(-(10**6), 10**6))
def test_one_microsecond_is_working_time_exactly_when_its_moment_is(calendar_and_start, nudge_us):
    # Probes the interval edges (openings, closings, clock changes) at microsecond resolution.
    calendar, start = calendar_and_start
    moment = start + timedelta(microseconds=nudge_us)
    one = timedelta(microseconds=1)
    expected = one if is_working_moment(moment, calendar) else timedelta(0)
    assert working_time_between(moment, moment + one, calendar) == expected
