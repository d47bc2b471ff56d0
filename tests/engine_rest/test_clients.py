"""The real Camunda 7 clients (pycamunda 0.6.1, the external-task client 4.5.0) against a
live corpflow server: gunicorn on a free 127.0.0.1 port over the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import ROOT
from tests.engine_rest.conftest import TINY
from tests.factories import make_user

with warnings.catch_warnings():
    # The external-task client's pydantic-1 style validators warn on import under pydantic 2.
    warnings.simplefilter("ignore")
    pytest.importorskip("pycamunda", reason="pycamunda is not installed")
    pytest.importorskip(
        "camunda.external_task.external_task_worker",
        reason="camunda-external-task-client-python3 (and pydantic) are not installed",
    )
    import pycamunda.deployment
    import pycamunda.externaltask
    import pycamunda.message
    import pycamunda.processdef
    import pycamunda.task
    from camunda.client.engine_client import EngineClient
    from camunda.external_task.external_task import ExternalTask as EtcTask
    from camunda.external_task.external_task_worker import (
        ExternalTaskWorker,
        NoExternalTaskFound,
    )

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ADMIN = requests.auth.HTTPBasicAuth("admin", "admin-pass")
READY_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(app: Flask, database_url: str) -> Iterator[str]:
    """gunicorn (2 threads' worth of long polls beside the test's calls) on the test database."""
    port = _free_port()
    env = {**os.environ, "CORPFLOW_DATABASE_URL": database_url}
    env.pop("CORPFLOW_REDIS_URL", None)
    env.update(
        CORPFLOW_DEPLOY_ON_STARTUP="false",
        CORPFLOW_JOB_MODE="thread",
        CORPFLOW_LOG_LEVEL="WARNING",
        CORPFLOW_ENVIRONMENT="development",  # the published development keys for personal data
    )
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "--workers", "1", "--threads", "8", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert proc.poll() is None, "corpflow did not start"
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("corpflow did not become ready")
        yield f"{base}/engine-rest"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _call(request: Any, auth: Any = ADMIN) -> Any:
    request.auth = auth
    return request()


def _deploy(url: str, *names: str) -> None:
    create = pycamunda.deployment.Create(url, name="client-tests", source="pycamunda")
    with contextlib.ExitStack() as files:
        for name in names:
            create.add_resource(files.enter_context(open(TINY / f"{name}.bpmn", "rb")))
        deployed = _call(create)
    assert deployed.deployed_process_definitions


def _start(url: str, key: str, business_key: str, **variables: Any) -> str:
    start = pycamunda.processdef.StartInstance(url, key=key, business_key=business_key)
    for name, value in variables.items():
        start.add_variable(name, value)
    return str(_call(start).id_)


def test_pycamunda_tasks_external_tasks_incidents_and_messages(
    server: str, sessions: sessionmaker[Session]
) -> None:
    make_user(sessions, "client_staff", ("staff",))
    staff = requests.auth.HTTPBasicAuth("client_staff", "password-123")
    _deploy(server, "one_user_task", "external_task_error", "message_catch")

    # A user task: list, claim, complete.
    with_task = _start(server, "one_user_task", "UT-1", amount=5)
    [task] = _call(pycamunda.task.GetList(server, process_instance_id=with_task), staff)
    _call(pycamunda.task.Claim(server, task.id_, user_id="client_staff"), staff)
    complete = pycamunda.task.Complete(server, task.id_)
    complete.add_variable("note", "checked")
    _call(complete, staff)
    assert _call(pycamunda.task.GetList(server, process_instance_id=with_task), staff) == ()

    # An external task: fetch-and-lock (long polling), complete.
    charged = _start(server, "external_task_error", "INV-1", amount=42)
    fetch = pycamunda.externaltask.FetchAndLock(server, "py-worker", 5, async_response_timeout=2000)
    fetch.add_topic("charge-card", 10_000, variables=["amount"])
    [locked] = _call(fetch)
    assert locked.process_instance_id == charged and locked.worker_id == "py-worker"
    assert locked.variables["amount"].value == 42
    done = pycamunda.externaltask.Complete(server, locked.id_, "py-worker")
    done.add_variable("receipt", "R-1")
    _call(done)

    # Failures until an incident appears, then retries set again.
    _start(server, "external_task_error", "INV-2")
    [failing] = _call(fetch)
    for retries in (1, 0):
        _call(
            pycamunda.externaltask.HandleFailure(
                server, failing.id_, "py-worker", "gateway down", "trace", retries, 0
            )
        )
        if retries:
            [failing] = _call(fetch)
    assert failing.retries == 1
    incidents = requests.get(
        server.replace("/engine-rest", "/api/v1/incidents"), auth=ADMIN, timeout=10
    )
    assert [i["kind"] for i in incidents.json()["items"]] == ["failedExternalTask"]
    again = pycamunda.externaltask.FetchAndLock(server, "py-worker", 5)
    again.add_topic("charge-card", 10_000)
    assert _call(again) == ()
    _call(pycamunda.externaltask.SetRetries(server, failing.id_, 3))
    [back] = _call(again)
    assert back.id_ == failing.id_

    # A message to a waiting instance (pycamunda needs result_enabled=True, as against C7).
    waiting = _start(server, "message_catch", "ORD-1")
    correlate = pycamunda.message.CorrelateSingle(
        server, "payment_received", business_key="ORD-1", result_enabled=True
    )
    correlate.add_process_variable("paid", 10)
    [result] = _call(correlate)
    assert result.execution.process_instance_id == waiting


def test_external_task_client_worker_completes_and_throws(
    server: str, sessions: sessionmaker[Session]
) -> None:
    _deploy(server, "external_task_error", "message_catch")
    config = {
        "auth_basic": {"username": "admin", "password": "admin-pass"},
        "maxTasks": 2,
        "lockDuration": 10_000,
        "asyncResponseTimeout": 500,
        "sleepSeconds": 1,
    }
    engine = EngineClient(server, config)
    keys = {f"INV-{n}": 50 * n for n in range(1, 7)}
    for business_key, amount in keys.items():
        engine.start_process("external_task_error", {"amount": amount}, business_key=business_key)
    seen: list[str] = []

    def charge(task: EtcTask) -> Any:
        seen.append(task.get_business_key())
        if task.get_variable("amount") > 200:
            return task.bpmn_error("card_declined", "over the card limit", {"limit": 200})
        return task.complete({"charged": True})

    worker = ExternalTaskWorker("etc-worker", server, config)
    stop = threading.Event()

    def run() -> None:  # subscribe() never returns: the same loop, stoppable
        while not stop.is_set():
            with contextlib.suppress(NoExternalTaskFound):
                worker.fetch_and_execute("charge-card", charge)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(seen) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
    assert sorted(seen) == sorted(keys)
    ends = {}
    for business_key in keys:
        [row] = requests.get(
            server.replace("/engine-rest", "/api/v1/process-instances"),
            params={"business_key": business_key},
            auth=ADMIN,
            timeout=10,
        ).json()["items"]
        ends[business_key] = row["end_element"]
    assert ends == {k: "declined" if a > 200 else "charged" for k, a in keys.items()}

    engine.start_process("message_catch", {}, business_key="ORD-9")
    correlated = engine.correlate_message("payment_received", business_key="ORD-9")
    assert correlated[0]["resultType"] == "Execution"
