"""Timers with real rq workers on real Redis: many due at once, a killed worker, a flushed Redis.

Every case ends with each timer fired exactly once. Workers are `flask worker` processes on the
test database; the test process itself never fires a timer here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import HistoryEvent, Timer
from app.queue import JobQueue
from tests.conftest import ROOT, deploy_files
from tests.factories import make_user

RESEND_SECONDS = 3


class Workers:
    """`flask worker` subprocesses against the test database and Redis."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.env = {
            **os.environ,
            "CORPFLOW_DATABASE_URL": database_url,
            "CORPFLOW_REDIS_URL": redis_url,
            "CORPFLOW_DEPLOY_ON_STARTUP": "false",
            "CORPFLOW_LOG_LEVEL": "WARNING",
            "CORPFLOW_TIMER_RESEND_SECONDS": str(RESEND_SECONDS),
            "CORPFLOW_DISPATCH_INTERVAL_SECONDS": "0.1",
            "CORPFLOW_ENVIRONMENT": "development",
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        flask = os.path.join(os.path.dirname(sys.executable), "flask")
        for _ in range(count):
            self.procs.append(
                subprocess.Popen(
                    [flask, "--app", "wsgi", "worker"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def kill(self, index: int) -> None:
        # The whole process group: rq's scheduler runs in a child process of the worker.
        self._signal_group(self.procs[index], signal.SIGKILL)
        self.procs[index].wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            self._signal_group(proc, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(10)
        time.sleep(0.5)
        for proc in self.procs:  # children that outlived their worker (the scheduler)
            self._signal_group(proc, signal.SIGKILL)

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


@pytest.fixture
def workers(database_url: str, redis_url: str) -> Iterator[Workers]:
    Redis.from_url(redis_url).flushdb()
    pool = Workers(database_url, redis_url)
    yield pool
    pool.stop()
    Redis.from_url(redis_url).flushdb()


def _start_many(
    client: FlaskClient, sessions: sessionmaker[Session], count: int, wait: str
) -> list[str]:
    who = make_user(sessions, "timer_staff", ("staff",))
    assert (
        deploy_files(client, ROOT / "tests" / "bpmn" / "timer_intermediate.bpmn").status_code == 201
    )
    ids = []
    for _ in range(count):
        started = client.post(
            "/api/v1/process-instances",
            headers=who,
            json={"process_key": "timer_intermediate", "variables": {"wait": wait}},
        )
        assert started.status_code == 201
        ids.append(started.get_json()["id"])
    return ids


def _wait_all_fired(sessions: sessionmaker[Session], count: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with sessions() as session:
            fired = session.scalar(select(func.count()).where(Timer.status == "fired")) or 0
        if fired >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"only {fired} of {count} timers fired within {limit} s")


def _assert_each_fired_once(sessions: sessionmaker[Session], count: int) -> None:
    with sessions() as session:
        statuses = session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
        firings = session.execute(
            select(HistoryEvent.task_id, func.count())
            .where(HistoryEvent.kind == "timer_fired")
            .group_by(HistoryEvent.task_id)
        ).all()
    assert dict(statuses) == {"fired": count}
    assert len(firings) == count
    assert {n for _id, n in firings} == {1}


def _jobs_for(timers: int) -> int:
    """Due timers travel to the workers in batches of FIRE_BATCH per rq job."""
    from app.instances.timers import FIRE_BATCH

    return -(-timers // FIRE_BATCH)


def _sleep_until_due(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        due = session.scalar(select(func.max(Timer.due_at)))
    assert due is not None
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.1)


def test_two_workers_fire_many_simultaneous_timers_once(
    client: FlaskClient, sessions: sessionmaker[Session], workers: Workers
) -> None:
    count = 60
    _start_many(client, sessions, count, "PT3S")
    workers.start(2)
    _wait_all_fired(sessions, count, limit=60)
    _assert_each_fired_once(sessions, count)


def test_a_killed_worker_leaves_timers_late_not_lost(
    client: FlaskClient, sessions: sessionmaker[Session], workers: Workers
) -> None:
    from app.instances.timers import FIRE_BATCH

    # Four jobs: killed once the first has committed, with three batches' work still left
    # (the next job alone fires faster than the test can notice and kill).
    count = FIRE_BATCH * 4
    _start_many(client, sessions, count, "PT2S")
    # Every timer due before the worker starts: it finds them all at once, in four jobs.
    _sleep_until_due(sessions)
    workers.start(1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill it while it is in the middle of the batch
        with sessions() as session:
            fired = session.scalar(select(func.count()).where(Timer.status == "fired")) or 0
        if fired >= 3:
            break
        time.sleep(0.02)
    workers.kill(0)
    with sessions() as session:
        left = session.scalar(select(func.count()).where(Timer.status == "pending")) or 0
    assert left > 0, "the worker finished before it could be killed; raise the count"
    workers.start(1)
    _wait_all_fired(sessions, count, limit=60)
    _assert_each_fired_once(sessions, count)


def test_a_flushed_redis_makes_timers_late_not_lost(
    app: Flask,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    workers: Workers,
    redis_url: str,
) -> None:
    count = 30
    _start_many(client, sessions, count, "PT1S")
    _sleep_until_due(sessions)
    # A dispatcher stamps the due timers and sends their jobs to Redis ...
    queue: Any = JobQueue("rq", redis_url)
    services = app.extensions["corpflow"]
    saved, services.queue = services.queue, queue
    try:
        from app.instances import timers

        assert timers.dispatch_due() == count
    finally:
        services.queue = saved
    assert Redis.from_url(redis_url).llen("rq:queue:corpflow") == _jobs_for(count)
    # ... and Redis loses them before any worker runs.
    Redis.from_url(redis_url).flushdb()
    workers.start(2)
    _wait_all_fired(sessions, count, limit=60)
    _assert_each_fired_once(sessions, count)


def test_a_backlog_is_not_resent_while_its_jobs_wait_in_redis(
    app: Flask, client: FlaskClient, sessions: sessionmaker[Session], redis_url: str
) -> None:
    Redis.from_url(redis_url).flushdb()
    count = 5
    _start_many(client, sessions, count, "PT1S")
    _sleep_until_due(sessions)
    services = app.extensions["corpflow"]
    saved_queue, saved_settings = services.queue, services.settings
    services.queue = JobQueue("rq", redis_url)
    import dataclasses

    services.settings = dataclasses.replace(saved_settings, timer_resend_seconds=0.0)
    try:
        from app.instances import timers

        assert timers.dispatch_due() == count  # sent once ...
        time.sleep(0.05)
        assert timers.dispatch_due() == 0  # ... and not again while the jobs still wait
        assert Redis.from_url(redis_url).llen("rq:queue:corpflow") == _jobs_for(count)
    finally:
        services.queue, services.settings = saved_queue, saved_settings
        Redis.from_url(redis_url).flushdb()
