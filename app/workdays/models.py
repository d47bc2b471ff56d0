"""Official calendar years and their days off and adjusted working weekends (调休上班)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

OFF = "off"
WORK = "work"
OFFICIAL = "official"


class CalendarYear(Base):
    """A year whose schedule the bank loaded from the State Council's notice."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), default=OFFICIAL)
    source: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(Base):
    """A day off ("off") or an adjusted working weekend day ("work") of an official year."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(
        ForeignKey("calendar_year.year", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
