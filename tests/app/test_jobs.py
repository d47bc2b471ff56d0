"""Service-task jobs: idempotent on duplicate delivery, and swept when their enqueue was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.db import utcnow
from app.identity.actor import Actor
from app.instances.models import ProcessInstance, ServiceJob
from app.lending.models import Facility
from app.org.units import scope_of
from app.queue import _PENDING
from app.tasks import actions
from tests.factories import do_task, make_application, make_customer, open_task


def _approve_without_enqueue(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> tuple[str, str]:
    """Take an application to the approval and complete it, dropping the job's enqueue."""
    customer = make_customer(client)
    app = make_application(client, customer["id"])
    do_task(client, app["id"], "reviewer", "review_credit", {"review_decision": "approve"})
    do_task(client, app["id"], "risk", "assess_risk", {"risk_rating": "A"})
    task = open_task(client, app["id"], "branch", "approve_credit")
    with sessions() as session:
        # As sign-in builds it: the org placement decides which customers' work is visible.
        branch = Actor(
            "branch_chen", frozenset({"branch_manager"}), scope_of(session, "branch_chen")
        )
        actions.claim(session, branch, task["id"])
        actions.complete(session, branch, task["id"], {"approval_decision": "approve"})
        session.info.pop(_PENDING)  # the process "crashed" between commit and enqueue
        session.commit()
        job_id = session.scalars(
            select(ServiceJob.id).where(ServiceJob.instance_id == app["id"])
        ).one()
    return app["id"], job_id


def _facilities(sessions: sessionmaker[Session], instance_id: str) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Facility)
                .where(Facility.source_key.like(f"{instance_id}:%"))
            )
            or 0
        )


def test_service_job_duplicate_delivery_creates_one_facility(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    instance_id, job_id = _approve_without_enqueue(client, sessions)
    assert _facilities(sessions, instance_id) == 0
    jobs.run_service_task(job_id)
    jobs.run_service_task(job_id)
    assert _facilities(sessions, instance_id) == 1
    with sessions() as session:
        instance = session.get(ProcessInstance, instance_id)
        job = session.get(ServiceJob, job_id)
        assert instance is not None and job is not None
        assert instance.status == "completed"
        assert instance.end_element == "credit_approved"
        assert job.status == "done"
        assert job.attempts == 1


def test_sweep_resends_lost_service_jobs(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session]
) -> None:
    instance_id, job_id = _approve_without_enqueue(client, sessions)
    assert jobs.sweep() == 0  # too young: its job may still be on its way
    with sessions() as session:
        job = session.get(ServiceJob, job_id)
        assert job is not None
        job.created_at = utcnow() - timedelta(minutes=5)
        session.commit()
    assert jobs.sweep() == 1
    assert _facilities(sessions, instance_id) == 1
    assert jobs.sweep() == 0
