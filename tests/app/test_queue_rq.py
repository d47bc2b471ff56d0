"""The rq path: a job sent after commit is run by a real rq worker against real Redis."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job as RqJob
from rq.registry import FinishedJobRegistry
from sqlalchemy.orm import Session, sessionmaker

from app.instances.models import ServiceJob
from app.queue import JobQueue
from tests.app.test_jobs import _approve_without_enqueue, _facilities


def test_rq_worker_runs_service_job_once(
    client: FlaskClient, credit_models: Any, sessions: sessionmaker[Session], redis_url: str
) -> None:
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    instance_id, job_id = _approve_without_enqueue(client, sessions)
    queue = JobQueue("rq", redis_url)
    queue.dispatch(("run_service_task", (job_id,)))
    queue.dispatch(("run_service_task", (job_id,)))  # a duplicate delivery, as after a sweep
    rq_queue = Queue("corpflow", connection=connection)
    assert rq_queue.count == 2
    SimpleWorker([rq_queue], connection=connection).work(burst=True)
    assert _facilities(sessions, instance_id) == 1
    with sessions() as session:
        job = session.get(ServiceJob, job_id)
        assert job is not None and job.status == "done"
        assert job.attempts == 1  # the second delivery found the work done
    connection.flushdb()


def test_a_finished_job_leaves_nothing_in_redis(client: FlaskClient, redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    queue = JobQueue("rq", redis_url)
    queue.dispatch(("fire_timers", ("no-such-timer",)), "fire_timers--no-such-timer")
    rq_queue = Queue("corpflow", connection=connection)
    SimpleWorker([rq_queue], connection=connection).work(burst=True)
    assert not RqJob.exists("fire_timers--no-such-timer", connection=connection)
    assert not connection.keys("rq:results:*")
    assert FinishedJobRegistry(queue=rq_queue).count == 0
    assert not queue.in_flight("fire_timers--no-such-timer", alive_within=30)
    connection.flushdb()


def test_in_flight_tells_a_waiting_job_from_one_a_dead_worker_took(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    queue = JobQueue("rq", redis_url)
    waiting, taken = ("fire_timer", ("t-waiting",)), ("fire_timer", ("t-taken",))
    queue.dispatch(waiting)
    queue.dispatch(taken)
    assert queue.in_flight("fire_timer--t-waiting", alive_within=30)
    assert queue.in_flight("fire_timer--t-taken", alive_within=30)
    # What a worker does first: move the job id out of the queue list, status still "queued".
    # Killed right there, it leaves the job in no queue at all.
    rq_queue = Queue("corpflow", connection=connection)
    assert rq_queue.get_job_ids() == ["fire_timer--t-waiting", "fire_timer--t-taken"]
    connection.lrem(rq_queue.key, 1, "fire_timer--t-taken")
    assert queue.in_flight("fire_timer--t-waiting", alive_within=30)
    assert not queue.in_flight("fire_timer--t-taken", alive_within=30)
    assert not queue.in_flight("fire_timer--never-sent", alive_within=30)
    connection.flushdb()
