"""Deployments and the versioned definitions they created, with the XML kept verbatim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    deployed_by: Mapped[str | None] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per-file lint warnings, as returned to the deployer.
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class _VersionedDefinition:
    """What process and decision definitions share: a key, a version and the verbatim XML."""

    # The unique (key, version) constraint also serves "latest version of a key" lookups.
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # key:version:uuid
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(200))
    resource_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessDefinition(_VersionedDefinition, Base):
    __tablename__ = "process_definition"


class DecisionDefinition(_VersionedDefinition, Base):
    __tablename__ = "decision_definition"
