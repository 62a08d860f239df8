"""Business-time arithmetic for SLA due times.

The contract (SPEC.md, "SLA"): an instant is working time when its local
wall-clock time in the calendar's zone falls on a working weekday that is not
a holiday and is at or after opening and before closing. Working time is real
elapsed time, so a day whose clocks spring forward inside working hours is
shorter and a fall-back day is longer. Opening or closing times that fall in a
spring-forward gap take effect at the first instant whose wall clock has
reached them (the transition itself). When a fall-back repeats wall-clock
times across opening or closing, the repeated stretch is working time only
where its wall clock is inside the hours, so such a day has two intervals.

Everything works on whole intervals, never minute by minute: real time is cut
into stretches of constant UTC offset (at most a day long), and inside one
stretch local time is UTC plus a constant, so each working day contributes
``[opens, closes)`` minus the offset, clipped to the stretch.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext, gettext_noop

# The offset is sampled once per stretch and assumed constant in between, so a
# stretch must be shorter than the closest pair of offset changes in tzdata
# (four days, Africa/Freetown 1939; two a year in modern zones).
_STRETCH = timedelta(days=1)

# A calendar whose holidays blot out every working day for this long has no
# working time a due time could ever land in; give up instead of looping.
_NO_WORKING_TIME_HORIZON = timedelta(days=366 * 10)

# Keep clear of datetime.min and datetime.max: local times run up to a day off UTC.
_EARLIEST = datetime.min + 2 * _STRETCH
_LATEST = datetime.max - 3 * _STRETCH
_OUT_OF_RANGE = gettext_noop("Business time can only be computed between the years 1 and 9999.")

_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours of an SLA policy: a zone, weekdays (0 = Monday), opening and closing, holidays."""

    time_zone: str
    working_days: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                gettext("Unknown time zone %(zone)s; use an IANA name such as 'Europe/Berlin'.")
                % {"zone": repr(self.time_zone)}
            ) from None
        working_days = frozenset(self.working_days)
        if not working_days:
            raise ValueError(gettext("A business calendar needs at least one working day."))
        if not all(isinstance(day, int) and 0 <= day <= 6 for day in working_days):
            raise ValueError(
                gettext("Working days must be weekday numbers 0 (Monday) to 6 (Sunday), got %(days)s.")
                % {"days": sorted(working_days)}
            )
        for name in ("opens", "closes"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a wall-clock time without a time zone, got {value!r}.")
        if self.opens >= self.closes:
            raise ValueError(
                gettext(
                    "Opening time %(opens)s must be before closing time %(closes)s; "
                    "hours that run past midnight are not supported."
                )
                % {"opens": f"{self.opens:%H:%M}", "closes": f"{self.closes:%H:%M}"}
            )
        holidays = frozenset(self.holidays)
        if not all(isinstance(day, date) and not isinstance(day, datetime) for day in holidays):
            raise ValueError("Holidays must be dates (not datetimes).")
        object.__setattr__(self, "working_days", working_days)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "zone", zone)

    def is_working_day(self, day):
        """Return whether the local date ``day`` is a working weekday and not a holiday; raises nothing."""
        return day.weekday() in self.working_days and day not in self.holidays


def is_working_moment(instant, calendar):
    """Return whether ``instant`` is working time (always, for ``calendar=None``); raises ValueError for a naive datetime or one at the edge of the datetime range."""
    _require_aware(instant, "instant")
    if calendar is None:
        return True
    try:
        local = instant.astimezone(calendar.zone)
    except OverflowError:
        raise ValueError(gettext(_OUT_OF_RANGE)) from None
    return calendar.is_working_day(local.date()) and calendar.opens <= local.time() < calendar.closes


def due_at(start, window, calendar):
    """Return the UTC instant at which ``window`` of working time after ``start`` is used up (``calendar=None`` is round the clock); raises ValueError for a naive start, a window that is not positive, a calendar with no working time for ten years, or a due time past the year 9999."""
    start_utc = _naive_utc(start, "start")
    if window <= timedelta(0):
        raise ValueError(gettext("The response window must be positive, got %(window)s.") % {"window": window})
    if calendar is None:
        try:
            return (start_utc + window).replace(tzinfo=UTC)
        except OverflowError:
            raise ValueError(gettext(_OUT_OF_RANGE)) from None
    remaining = window
    for begin, end in _working_intervals(calendar, start_utc, until=None):
        if remaining <= end - begin:
            # "<=": a window used up exactly at closing time is due at closing.
            return (begin + remaining).replace(tzinfo=UTC)
        remaining -= end - begin
    raise AssertionError("unreachable: _working_intervals without a bound never ends")


def working_time_between(start, end, calendar):
    """Return the working time in ``[start, end)``, zero when ``end`` is not after ``start``; raises ValueError for a naive datetime or a span reaching past the year 9999."""
    start_utc = _naive_utc(start, "start")
    end_utc = _naive_utc(end, "end")
    if end_utc <= start_utc:
        return timedelta(0)
    if calendar is None:
        return end_utc - start_utc
    total = timedelta(0)
    for begin, finish in _working_intervals(calendar, start_utc, until=end_utc):
        total += min(finish, end_utc) - begin
    return total


def _require_aware(value, name):
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive datetime {value.isoformat()}.")


def _naive_utc(value, name):
    _require_aware(value, name)
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(gettext(_OUT_OF_RANGE)) from None


def _working_intervals(calendar, start, *, until):
    """Yield the working intervals at or after ``start`` in order, as naive UTC ``(begin, end)`` pairs.

    With ``until``, stops before the first interval that begins at or after it
    (the last one yielded may run past it); without, runs until the caller
    stops, or raises ValueError after ten years without working time.
    """
    last_working = start
    for stretch_begin, stretch_end, offset in _constant_offset_stretches(calendar.zone, start):
        if until is not None and stretch_begin >= until:
            return
        if until is None and stretch_begin - last_working > _NO_WORKING_TIME_HORIZON:
            raise ValueError(
                gettext(
                    "The business calendar has no working time in the ten years after %(date)s "
                    "(every working day is a holiday)."
                )
                % {"date": f"{last_working:%Y-%m-%d}"}
            )
        local_begin, local_end = stretch_begin + offset, stretch_end + offset
        day = local_begin.date()
        while datetime.combine(day, time.min) < local_end:
            if calendar.is_working_day(day):
                begin = max(datetime.combine(day, calendar.opens), local_begin) - offset
                end = min(datetime.combine(day, calendar.closes), local_end) - offset
                if begin < end:
                    if until is not None and begin >= until:
                        return
                    last_working = end
                    yield begin, end
            day += timedelta(days=1)


def _constant_offset_stretches(zone, start):
    """Cut real time from ``start`` (naive UTC) into back-to-back stretches of one UTC offset each."""
    begin = start
    while True:
        if not _EARLIEST <= begin <= _LATEST:
            raise ValueError(gettext(_OUT_OF_RANGE))
        offset = _utc_offset(zone, begin)
        end = begin + _STRETCH
        if _utc_offset(zone, end) != offset:
            end = _offset_change(zone, begin, end, offset)
        yield begin, end, offset
        begin = end


def _offset_change(zone, before, after, offset):
    """Return the first instant in ``(before, after]`` whose UTC offset differs from ``offset``, to the microsecond."""
    while after - before > _ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if _utc_offset(zone, middle) == offset:
            before = middle
        else:
            after = middle
    return after


def _utc_offset(zone, naive_utc):
    return naive_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()
