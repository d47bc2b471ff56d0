"""After-commit job dispatch: rq with Redis, an in-process dispatcher without, or eager."""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

Job = tuple[str, tuple[str, ...]]


def job_id_of(job: Job) -> str:
    """The id a job gets unless the sender names one: the same job, the same id."""
    name, ids = job
    return f"{name}--{'--'.join(ids)}"


_PENDING = "corpflow_pending_jobs"
# A job that succeeded leaves nothing in Redis: its effect is in the database, nobody reads an
# rq result, and keeping one (hash, result stream, finished registry) costs Redis commands and
# memory per job. A failed job stays in rq's failed registry as usual.
RESULT_TTL = 0


def has_pending_jobs(session: Session) -> bool:
    """Whether jobs wait for this session's transaction to commit."""
    return bool(session.info.get(_PENDING))


def enqueue_after_commit(session: Session, job_name: str, *ids: str) -> None:
    """Declare a job inside the transaction; it is sent only if the transaction commits."""
    session.info.setdefault(_PENDING, []).append((job_name, tuple(ids)))


class JobQueue:
    def __init__(
        self,
        mode: str,
        redis_url: str | None = None,
        runner: Callable[[str, tuple[str, ...]], None] | None = None,
    ) -> None:
        if mode not in ("rq", "thread", "eager"):
            raise ValueError(f"unknown job mode {mode!r}")
        if mode == "rq" and not redis_url:
            raise ValueError("job mode 'rq' needs CORPFLOW_REDIS_URL")
        self.mode = mode
        self.redis_url = redis_url
        self._runner = runner or _run_job
        self._inbox: stdlib_queue.Queue[tuple[Job, str] | None] = stdlib_queue.Queue()
        self._thread: threading.Thread | None = None
        self._rq_queue: Any = None
        self._lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._queued: set[str] = set()  # ids of jobs waiting in the in-process inbox
        self._stop = threading.Event()

    def bind(self, sessions: sessionmaker[Session]) -> None:
        """Attach the after-commit / after-rollback hooks to every session of the factory."""

        @event.listens_for(sessions, "after_commit")
        def _sent(session: Session) -> None:
            # Releasing a savepoint fires after_commit too; only the real commit sends jobs.
            if session.in_nested_transaction():
                return
            jobs = session.info.pop(_PENDING, [])
            for job in jobs:
                self.dispatch(job)

        @event.listens_for(sessions, "after_soft_rollback")
        def _dropped(session: Session, previous: Any) -> None:
            # A savepoint's rollback fires this too; only the outermost rollback drops the jobs.
            if previous.nested:
                return
            session.info.pop(_PENDING, None)

    def dispatch(self, job: Job, job_id: str | None = None) -> None:
        """Send a job; `job_id` (default: derived from the job) is what `in_flight` asks about."""
        name, ids = job
        job_id = job_id or job_id_of(job)
        if self.mode == "eager":
            self._safe_run(name, ids)
        elif self.mode == "thread":
            self._ensure_thread()
            with self._lock:
                self._queued.add(job_id)
            self._inbox.put((job, job_id))
        else:
            self._rq().enqueue(
                f"app.jobs.{name}", *ids, job_timeout=300, job_id=job_id, result_ttl=RESULT_TTL
            )

    def in_flight(self, job_id: str, *, alive_within: float) -> bool:
        """Whether the job is still waiting, or running with a heartbeat in the last
        `alive_within` seconds, so sending it again would only queue a duplicate (a backlog,
        not a loss). A job that a killed worker had started stays "started" in rq: its
        stale heartbeat tells it apart, and one it had taken but not yet started is in no queue."""
        if self.mode == "rq":
            from datetime import UTC, datetime

            from rq.exceptions import NoSuchJobError
            from rq.job import Job as RqJob

            try:
                found = RqJob.fetch(job_id, connection=self._rq().connection)
            except NoSuchJobError:
                return False
            status = found.get_status(refresh=False)
            if status == "queued":
                # rq moves a job out of the queue list before marking it started: a worker
                # killed in between leaves it "queued" but in no queue, waiting for rq's
                # maintenance pass. Only a job still in the list is really waiting.
                return self._rq().get_job_position(found.id) is not None
            if status in ("deferred", "scheduled"):
                return True
            if status == "started":
                beat = found.last_heartbeat or found.started_at
                if beat is None:
                    return False
                beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
                return (datetime.now(UTC) - beat).total_seconds() < alive_within
            return False
        if self.mode == "thread":
            with self._lock:
                return job_id in self._queued
        return False

    def retry_later(self, name: str, *ids: str, delay: float) -> None:
        """Run the job again after `delay` seconds (a transient handler failure)."""
        if self.mode == "rq":
            from datetime import timedelta

            self._rq().enqueue_in(
                timedelta(seconds=delay),
                f"app.jobs.{name}",
                *ids,
                job_timeout=300,
                result_ttl=RESULT_TTL,
            )
            return
        timer = threading.Timer(delay, self.dispatch, args=((name, tuple(ids)),))
        timer.daemon = True
        timer.start()

    def _rq(self) -> Any:
        with self._lock:
            if self._rq_queue is None:
                from redis import Redis
                from rq import Queue

                self._rq_queue = Queue("corpflow", connection=Redis.from_url(self.redis_url or ""))
            return self._rq_queue

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="corpflow-jobs", daemon=True
                )
                self._thread.start()

    def start_background(self, interval: float = 0.25) -> None:
        """The dispatcher loop: fire due timers every `interval` s, sweep lost work (jobs.tick)."""
        if self._background is not None:
            return

        def loop() -> None:
            from app import jobs

            while not self._stop.wait(interval):
                try:
                    jobs.tick()
                except Exception:  # the dispatcher must outlive a database hiccup
                    log.exception("dispatcher pass failed")

        self._background = threading.Thread(target=loop, name="corpflow-dispatcher", daemon=True)
        self._background.start()

    def stop_background(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            (name, ids), job_id = item
            self._safe_run(name, ids)
            with self._lock:
                self._queued.discard(job_id)
            self._inbox.task_done()

    def _safe_run(self, name: str, ids: tuple[str, ...]) -> None:
        try:
            self._runner(name, ids)
        except Exception:  # a job's failure is recorded by the job; the dispatcher goes on
            log.exception("job %s%s failed", name, ids)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until the in-process dispatcher has run everything queued (tests, shutdown)."""
        if self.mode != "thread" or self._thread is None:
            return
        done = threading.Event()

        def _wait() -> None:
            self._inbox.join()
            done.set()

        threading.Thread(target=_wait, daemon=True).start()
        done.wait(timeout)


def _run_job(name: str, ids: tuple[str, ...]) -> None:
    from app import jobs

    func = getattr(jobs, name, None)
    if func is None or name not in jobs.JOBS:
        raise ValueError(f"unknown job {name!r}")
    func(*ids)
