"""Business time: deadlines across weekends, holidays, Ramadan hours and clock changes.

Every expectation is written as the local clock time a person in that office would read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from server.services import business_time, calendar
from server.services.actors import Actor
from server.services.business_time import Calendar, Special

ADMIN = Actor("root", 1, frozenset({"admin"}))
RIYADH = ZoneInfo("Asia/Riyadh")
DUBAI = ZoneInfo("Asia/Dubai")
LONDON = ZoneInfo("Europe/London")
SUN_TO_THU = {day: (time(8), time(16)) for day in (6, 0, 1, 2, 3)}
# UAE federal government: Monday to Thursday 07:30-15:30, Friday a half day to 12:00.
UAE_WEEK = {**{day: (time(7, 30), time(15, 30)) for day in (0, 1, 2, 3)},
            4: (time(7, 30), time(12))}
MON_TO_FRI = {day: (time(9), time(17)) for day in range(5)}


def riyadh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=RIYADH)  # type: ignore[misc]


def dubai(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=DUBAI)  # type: ignore[misc]


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[misc]


def saudi(*specials: Special) -> Calendar:
    return Calendar("Asia/Riyadh", SUN_TO_THU, "SA", None, specials)


def ramadan(first: date, last: date, opens: time, closes: time, entry: int = 1) -> Special:
    return Special(entry, "hours", first, last, opens, closes, "Ramadan")


def test_a_complaint_on_thursday_afternoon_is_due_on_sunday_at_the_same_time() -> None:
    due = saudi().add_working_days(riyadh(2026, 9, 17, 15, 0), 1)  # Thursday
    assert due == riyadh(2026, 9, 20, 15, 0)  # Sunday 15:00
    assert due.tzinfo is UTC and due == datetime(2026, 9, 20, 12, 0, tzinfo=UTC)


def test_saudi_national_day_is_skipped() -> None:
    # Wednesday 23 September 2026 is the National Day holiday.
    assert saudi().add_working_days(riyadh(2026, 9, 22, 10, 0), 1) == riyadh(2026, 9, 24, 10, 0)
    assert saudi().add_working_days(riyadh(2026, 9, 20, 10, 0), 5) == riyadh(2026, 9, 28, 10, 0)


def test_the_eid_al_fitr_break_and_the_weekend_are_skipped_together() -> None:
    # Eid al-Fitr 2026: Thursday 19 to Tuesday 24 March (with the observed days).
    cal = saudi()
    assert cal.add_working_days(riyadh(2026, 3, 18, 11, 0), 1) == riyadh(2026, 3, 25, 11, 0)
    assert cal.add_working_hours(riyadh(2026, 3, 18, 14, 0), 4) == riyadh(2026, 3, 25, 10, 0)


def test_outside_working_hours_counting_starts_at_the_next_opening() -> None:
    cal = saudi()
    # Thursday 17:30 counts from Sunday 08:00, so one working day is Monday 08:00.
    assert cal.add_working_days(riyadh(2026, 9, 17, 17, 30), 1) == riyadh(2026, 9, 21, 8, 0)
    # Sunday 06:00, before opening, counts from Sunday 08:00 too.
    assert cal.add_working_days(riyadh(2026, 9, 20, 6, 0), 1) == riyadh(2026, 9, 21, 8, 0)
    # Friday (weekend) plus four working hours: Sunday 12:00.
    assert cal.add_working_hours(riyadh(2026, 9, 18, 10, 0), 4) == riyadh(2026, 9, 20, 12, 0)
    # Zero days is the next opening.
    assert cal.add_working_days(riyadh(2026, 9, 18, 10, 0), 0) == riyadh(2026, 9, 20, 8, 0)


def test_working_hours_run_to_closing_time_and_go_on_after_the_weekend() -> None:
    cal = saudi()
    # Thursday 15:00 + 1 h ends exactly at closing, Thursday 16:00, not on Sunday.
    assert cal.add_working_hours(riyadh(2026, 9, 17, 15, 0), 1) == riyadh(2026, 9, 17, 16, 0)
    assert cal.add_working_hours(riyadh(2026, 9, 17, 15, 0), 1.5) == riyadh(2026, 9, 20, 8, 30)


def test_working_hours_between_skip_the_weekend() -> None:
    cal = saudi()
    # Thursday 14:00-16:00 and Sunday 08:00-10:00.
    assert cal.working_hours_between(riyadh(2026, 9, 17, 14, 0),
                                     riyadh(2026, 9, 20, 10, 0)) == pytest.approx(4.0)
    assert cal.working_hours_between(riyadh(2026, 9, 20, 10, 0),
                                     riyadh(2026, 9, 17, 14, 0)) == 0.0


def test_working_time_includes_opening_and_excludes_closing() -> None:
    cal = saudi()
    assert cal.is_working_time(riyadh(2026, 9, 20, 8, 0))
    assert not cal.is_working_time(riyadh(2026, 9, 20, 16, 0))
    assert not cal.is_working_time(riyadh(2026, 9, 18, 12, 0))  # Friday
    assert not cal.is_working_time(riyadh(2026, 9, 23, 12, 0))  # National Day


def test_dubai_friday_half_day_and_uae_holidays() -> None:
    cal = Calendar("Asia/Dubai", UAE_WEEK, "AE", None)
    # Friday 9 January 2026 11:00 + 2 working hours: 1 h to noon, then Monday 08:30.
    assert cal.add_working_hours(dubai(2026, 1, 9, 11, 0), 2) == dubai(2026, 1, 12, 8, 30)
    # Thursday 14:00 + 1 working day: Friday closes at 12:00, so 12:00.
    assert cal.add_working_days(dubai(2026, 1, 8, 14, 0), 1) == dubai(2026, 1, 9, 12, 0)
    # New Year's Day, Thursday 1 January 2026, is a holiday.
    assert cal.add_working_days(dubai(2025, 12, 31, 10, 0), 1) == dubai(2026, 1, 2, 10, 0)
    # National Day, Wednesday 2 and Thursday 3 December 2026.
    assert cal.add_working_days(dubai(2026, 12, 1, 9, 0), 1) == dubai(2026, 12, 4, 9, 0)
    assert cal.add_working_days(dubai(2026, 12, 1, 9, 0), 1).tzinfo is UTC


def test_ramadan_hours_shorten_the_day_and_clamp_the_clock_time() -> None:
    cal = saudi(ramadan(date(2026, 2, 18), date(2026, 3, 18), time(10), time(15)))
    # Monday 23 February 14:00: one hour to 15:00, then Tuesday from 10:00.
    assert cal.add_working_hours(riyadh(2026, 2, 23, 14, 0), 3) == riyadh(2026, 2, 24, 12, 0)
    # Tuesday 17 February 09:00 (before Ramadan) + 1 day: Wednesday opens at 10:00.
    assert cal.add_working_days(riyadh(2026, 2, 17, 9, 0), 1) == riyadh(2026, 2, 18, 10, 0)
    # Wednesday 18 March 14:30 + 1 day: the Eid break, then Wednesday 25 March, normal hours.
    assert cal.add_working_days(riyadh(2026, 3, 18, 14, 30), 1) == riyadh(2026, 3, 25, 14, 30)
    assert cal.working_hours_between(riyadh(2026, 2, 23, 8, 0),
                                     riyadh(2026, 2, 24, 16, 0)) == pytest.approx(10.0)


def test_a_half_day_inside_ramadan_wins_over_the_ramadan_hours() -> None:
    half_day = Special(2, "hours", date(2026, 2, 24), date(2026, 2, 24), time(10), time(12),
                       "Half day")
    cal = saudi(ramadan(date(2026, 2, 18), date(2026, 3, 18), time(10), time(15)), half_day)
    # Monday 14:30 + 1 day lands on the Tuesday half day, which closes at 12:00.
    assert cal.add_working_days(riyadh(2026, 2, 23, 14, 30), 1) == riyadh(2026, 2, 24, 12, 0)


def test_a_custom_holiday_and_a_worked_public_holiday_change_the_deadline() -> None:
    eid_moved = Special(1, "holiday", date(2026, 10, 5), date(2026, 10, 5), None, None, "Moved")
    assert saudi(eid_moved).add_working_days(riyadh(2026, 10, 4, 9, 0), 1) == \
        riyadh(2026, 10, 6, 9, 0)
    worked = Special(1, "working", date(2026, 9, 23), date(2026, 9, 23), None, None, "")
    assert saudi(worked).add_working_days(riyadh(2026, 9, 22, 10, 0), 1) == \
        riyadh(2026, 9, 23, 10, 0)
    # A Saturday made a working day with its own hours.
    saturday = Special(1, "working", date(2026, 9, 19), date(2026, 9, 19), time(9), time(13), "")
    assert saudi(saturday).add_working_days(riyadh(2026, 9, 17, 15, 0), 1) == \
        riyadh(2026, 9, 19, 13, 0)


def test_london_deadlines_keep_the_local_clock_across_the_change_to_summer_time() -> None:
    cal = Calendar("Europe/London", MON_TO_FRI, "GB", "ENG")
    # Friday 27 March 2026 10:00 GMT; clocks go forward on Sunday 29 March.
    due = cal.add_working_days(london(2026, 3, 27, 10, 0), 1)
    assert due == london(2026, 3, 30, 10, 0) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    # One hour on Friday, one on Monday: the lost night hour is not working time.
    assert cal.working_hours_between(london(2026, 3, 27, 16, 0),
                                     london(2026, 3, 30, 10, 0)) == pytest.approx(2.0)
    # A calendar day keeps the clock time; 24 calendar hours do not.
    assert cal.add(london(2026, 3, 28, 12, 0), 1, "calendar_days") == london(2026, 3, 29, 12, 0)
    assert cal.add(london(2026, 3, 28, 12, 0), 24, "calendar_hours") == london(2026, 3, 29, 13, 0)
    # Good Friday (3 April) and Easter Monday (6 April) are bank holidays in England.
    assert cal.add_working_days(london(2026, 4, 2, 10, 0), 1) == london(2026, 4, 7, 10, 0)


def test_subtracting_working_time_mirrors_adding_it() -> None:
    cal = saudi()
    assert cal.subtract_working_hours(riyadh(2026, 9, 20, 10, 0), 4) == riyadh(2026, 9, 17, 14, 0)
    assert cal.subtract_working_days(riyadh(2026, 9, 24, 10, 0), 1) == riyadh(2026, 9, 22, 10, 0)
    # From outside working hours, back from the last closing (Thursday 16:00).
    assert cal.subtract_working_days(riyadh(2026, 9, 19, 12, 0), 1) == riyadh(2026, 9, 16, 16, 0)


def test_naive_times_and_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        saudi().add_working_days(datetime(2026, 9, 20, 10, 0), 1)
    with pytest.raises(ValueError, match="non-negative"):
        saudi().add_working_hours(riyadh(2026, 9, 20, 10, 0), -1)


def test_package_holidays_are_built_once_per_country_and_year() -> None:
    business_time.package_holidays.cache_clear()
    cal = saudi()
    cal.add_working_days(riyadh(2026, 9, 20, 10, 0), 20)
    cal.add_working_days(riyadh(2026, 9, 21, 10, 0), 20)
    info = business_time.package_holidays.cache_info()
    assert info.misses == 1 and info.hits > 20


def test_the_saved_calendar_applies_at_once(app_ctx) -> None:
    """The module functions read the saved rows: the seeded Riyadh calendar, then changes."""
    sunday = riyadh(2026, 10, 4, 9, 0)
    assert calendar.add_working_days(sunday, 1) == riyadh(2026, 10, 5, 9, 0)
    calendar.add_date("holiday", {"first_day": "2026-10-05", "name": "Moved Eid"}, ADMIN)
    assert calendar.add_working_days(sunday, 1) == riyadh(2026, 10, 6, 9, 0)
    assert calendar.add_working_hours(sunday, 8) == riyadh(2026, 10, 6, 9, 0)
    assert calendar.working_hours_between(sunday, riyadh(2026, 10, 6, 9, 0)) == pytest.approx(8)
    assert not calendar.is_working_time(riyadh(2026, 10, 5, 9, 0))

    calendar.add_date("working", {"first_day": "2026-09-23"}, ADMIN)
    assert calendar.add_working_days(riyadh(2026, 9, 22, 10, 0), 1) == riyadh(2026, 9, 23, 10, 0)
    listed = {h.day: h for h in calendar.load().holidays_of(2026)}
    assert listed[date(2026, 9, 23)].source == "package" and listed[date(2026, 9, 23)].worked
    assert listed[date(2026, 10, 5)].source == "custom"

    week = {f"{d}_{f}": v for d in ("mon", "tue", "wed", "thu", "fri")
            for f, v in (("works", "1"), ("opens", "07:30"), ("closes", "15:30"))}
    calendar.save_settings({**week, "fri_closes": "12:00", "time_zone": "Asia/Dubai",
                            "holiday_country": "ae"}, ADMIN)
    assert calendar.add_working_days(dubai(2026, 1, 8, 14, 0), 1) == dubai(2026, 1, 9, 12, 0)


def test_a_working_date_with_its_own_hours_wins_over_ramadan_hours() -> None:
    worked = Special(2, "working", date(2026, 2, 24), date(2026, 2, 24), time(8), time(12), "")
    cal = saudi(ramadan(date(2026, 2, 18), date(2026, 3, 18), time(10), time(15)), worked)
    assert cal.hours_on(date(2026, 2, 24)) == (time(8), time(12))
    assert cal.hours_on(date(2026, 2, 25)) == (time(10), time(15))
