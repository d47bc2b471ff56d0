"""Natural persons (personal data sealed at rest), their positions in customers, unmask log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Person(Base):
    """A natural person; ID and mobile numbers only as ciphertext, lookup hash and mask."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(32))
    id_number_sealed: Mapped[str] = mapped_column(Text)
    # HMAC-SHA256 under the lookup key: exact search without storing the number in clear.
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Position(Base):
    """A person's role in a customer: legal representative, chairman, general manager ..."""

    __tablename__ = "person_position"
    __table_args__ = (
        UniqueConstraint("customer_id", "person_id", "role", name="uq_person_position"),
        Index("ix_person_position_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(32))
    appointed_on: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonalDataAccess(Base):
    """Append-only: every read of personal data in clear, with who, when and why (PIPL)."""

    __tablename__ = "personal_data_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    customer_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(default=utcnow)
