"""List automation: a job's run schedule, in the product's two forms (see
:mod:`domain.run_schedule` for what each means and how its runs are found).

- :class:`ScheduleOptions` ("Schedule every"): every 15 to 60 minutes from a start time up to an
  end time, on chosen weekdays, in a named time zone.
- :class:`CronSchedule` ("Crontab string"): five cron fields in a named time zone, with the
  syntax rules of the product's document (checked by :func:`domain.run_schedule.check`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

Weekday = Literal["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
WEEKDAYS: tuple[Weekday, ...] = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MIN_EVERY_MINUTES = 15
MAX_EVERY_MINUTES = 60

LocalTime = Annotated[
    str,
    Meta(pattern=r"^[0-9]{2}:[0-9]{2}$", description="Local wall-clock time HH:MM", examples=["06:00", "20:00"]),
]
ZoneName = Annotated[str, Meta(min_length=1, max_length=64, examples=["America/New_York"])]


class ScheduleOptions(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="options", tag_field="kind"):
    """Runs every ``every_minutes`` from ``starts_at`` (included) up to ``ends_at`` (excluded) on
    each of ``days``, local time in ``time_zone``: 13:00 to 14:00 every 15 minutes is four runs."""

    every_minutes: Annotated[int, Meta(ge=MIN_EVERY_MINUTES, le=MAX_EVERY_MINUTES)]
    days: list[Weekday] = field(default_factory=lambda: list(WEEKDAYS))
    starts_at: LocalTime
    ends_at: LocalTime
    time_zone: ZoneName


class CronSchedule(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="cron", tag_field="kind"):
    """Runs at the local times ``cron`` (minute hour day-of-month month day-of-week) names in
    ``time_zone``."""

    cron: Annotated[str, Meta(max_length=200, examples=["0 3 8 9 2,3"])]
    time_zone: ZoneName


RunSchedule = ScheduleOptions | CronSchedule


NameOperator = Literal["equals", "contains", "starts_with", "ends_with", "glob"]
AfterImport = Literal["delete", "leave"]


class FileRule(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which files of the directory a run takes (the document's "file format operation" and
    "file name format"), whether a name already processed is taken again ("ignore duplicate
    files"), and what becomes of a file once imported ("delete files after import", the
    default; "leave" finds it again next run unless duplicates are ignored)."""

    operator: NameOperator
    value: Annotated[str, Meta(min_length=1, max_length=255)]
    ignore_duplicates: bool = False
    after_import: AfterImport = "delete"
