"""External tasks: fetch-and-lock with long polling, worker answers, queries, retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.variables import to_typed, variables_in
from api.engine_rest.wire import RestError, bad_request, bool_arg, camunda_date, paging
from api.session import db_session
from app.errors import ConflictError
from app.external_tasks import actions, fetching, queries
from app.external_tasks.fetching import FetchRequest, TopicRequest
from app.external_tasks.models import ExternalTask

# A fetch waits at most this long for work (Camunda allows 30 min); clients simply poll again.
MAX_WAIT_MS = 30_000
FIRST_PAUSE_S = 0.02
LONGEST_PAUSE_S = 0.25
T = TypeVar("T")


def _body() -> dict[str, Any]:
    body: Any = request.get_json(silent=True) if request.get_data() else {}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if value is None:
        raise bad_request(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise bad_request(f"{name} must be an integer, not {json.dumps(value)}")
    return int(value)


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{what} must be a list of strings")
    return list(value)


def _topic(raw: Any) -> TopicRequest:
    if not isinstance(raw, dict):
        raise bad_request("each entry of topics must be an object")
    name = raw.get("topicName")
    if not isinstance(name, str) or not name:
        raise bad_request("topicName is required for every topic")
    wanted = raw.get("variables")
    process_variables = raw.get("processVariables") or {}
    if not isinstance(process_variables, dict):
        raise bad_request("processVariables must map variable names to values")
    return TopicRequest(
        name=name,
        lock_ms=_int(raw, "lockDuration"),
        variables=None if wanted is None else _names(wanted, "variables"),
        business_key=raw.get("businessKey") or None,
        process_keys=[
            *_names(raw.get("processDefinitionKey"), "processDefinitionKey"),
            *_names(raw.get("processDefinitionKeyIn"), "processDefinitionKeyIn"),
        ],
        definition_ids=[
            *_names(raw.get("processDefinitionId"), "processDefinitionId"),
            *_names(raw.get("processDefinitionIdIn"), "processDefinitionIdIn"),
        ],
        process_variables=process_variables,
    )


def _answer(call: Callable[[], T]) -> T:
    """Run a worker action; a wrong worker is Camunda's 400 BadUserRequestException."""
    try:
        return call()
    except ConflictError as exc:
        if exc.code != "external_task_not_owned":
            raise
        raise RestError(400, "BadUserRequestException", exc.message) from None


def _typed(value: Any, deserialize: bool) -> dict[str, Any]:
    typed = to_typed(value)
    if typed["type"] == "Object" and not deserialize:
        typed["value"] = json.dumps(value)  # the serialized form, as Camunda sends it
    return typed


def external_task_dto(task: ExternalTask) -> dict[str, Any]:
    """`ExternalTaskDto`: every key pycamunda reads, null when corpflow has no value."""
    return {
        "activityId": task.element_id,
        "activityInstanceId": f"{task.element_id}:{task.id}",
        "errorMessage": task.error_message,
        "errorDetails": None,
        "executionId": task.id,
        "id": task.id,
        "lockExpirationTime": camunda_date(task.lock_expires_at),
        "createTime": camunda_date(task.created_at),
        "processDefinitionId": task.definition_id,
        "processDefinitionKey": task.process_key,
        "processDefinitionVersionTag": None,
        "processInstanceId": task.instance_id,
        "tenantId": None,
        "retries": task.retries,
        "suspended": False,
        "workerId": task.worker_id,
        "priority": task.priority,
        "topicName": task.topic,
        "businessKey": task.business_key,
    }


@bp.post("/external-task/fetchAndLock")
def fetch_and_lock_external_tasks() -> Response:
    """Lock tasks for the worker; with `asyncResponseTimeout`, wait until work appears.

    The wait holds no transaction: a lock-free indexed probe runs between short pauses
    (growing to LONGEST_PAUSE_S), so it works the same under gunicorn threads and SQLite.
    """
    body = _body()
    topics_raw = body.get("topics") or []
    if not isinstance(topics_raw, list):
        raise bad_request("topics must be a list")
    worker_id = body.get("workerId")
    if not isinstance(worker_id, str) or not worker_id:
        raise bad_request("workerId is required")
    fetch = FetchRequest(
        worker_id=worker_id,
        max_tasks=_int(body, "maxTasks"),
        topics=[_topic(raw) for raw in topics_raw],
        use_priority=bool(body.get("usePriority")),
    )
    wait_ms = min(max(_int(body, "asyncResponseTimeout", 0), 0), MAX_WAIT_MS)
    deadline = time.monotonic() + wait_ms / 1000
    session = db_session()
    me = actor()
    pause = FIRST_PAUSE_S
    while True:
        locked = fetching.fetch_and_lock(session, me, fetch)
        session.commit()
        if locked or time.monotonic() >= deadline:
            break
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_PAUSE_S)
            found = fetching.has_work(session, fetch.topics)
            session.rollback()
            if found:
                break
    # Per topic: (includeExtensionProperties, deserializeValues).
    flags = {
        str(raw.get("topicName")): (
            bool(raw.get("includeExtensionProperties")),
            bool(raw.get("deserializeValues")),
        )
        for raw in topics_raw
    }
    return jsonify(
        [
            {
                **external_task_dto(item.task),
                "variables": {
                    name: _typed(value, flags[item.task.topic][1])
                    for name, value in item.variables.items()
                },
                "extensionProperties": (
                    dict(item.task.properties) if flags[item.task.topic][0] else {}
                ),
            }
            for item in locked
        ]
    )


def _no_content() -> Response:
    return Response(status=204)


@bp.post("/external-task/<task_id>/complete")
def complete_external_task(task_id: str) -> Response:
    body = _body()
    values, _types = variables_in(body.get("variables"))
    local, _local_types = variables_in(body.get("localVariables"))
    session = db_session()
    _answer(
        lambda: actions.complete(
            session, actor(), task_id, str(body.get("workerId") or ""), values, local
        )
    )
    session.commit()
    return _no_content()


@bp.post("/external-task/<task_id>/failure")
def fail_external_task(task_id: str) -> Response:
    body = _body()
    session = db_session()
    _answer(
        lambda: actions.fail(
            session,
            actor(),
            task_id,
            str(body.get("workerId") or ""),
            message=body.get("errorMessage"),
            details=body.get("errorDetails"),
            retries=_int(body, "retries", 0),
            retry_timeout_ms=_int(body, "retryTimeout", 0),
        )
    )
    session.commit()
    return _no_content()


@bp.post("/external-task/<task_id>/bpmnError")
def bpmn_error_external_task(task_id: str) -> Response:
    body = _body()
    values, _types = variables_in(body.get("variables"))
    code = body.get("errorCode")
    if not isinstance(code, str) or not code:
        raise bad_request("errorCode is required")
    session = db_session()
    _answer(
        lambda: actions.bpmn_error(
            session,
            actor(),
            task_id,
            str(body.get("workerId") or ""),
            code=code,
            message=body.get("errorMessage"),
            variables=values,
        )
    )
    session.commit()
    return _no_content()


@bp.post("/external-task/<task_id>/extendLock")
def extend_external_task_lock(task_id: str) -> Response:
    body = _body()
    session = db_session()
    _answer(
        lambda: actions.extend_lock(
            session, actor(), task_id, str(body.get("workerId") or ""), _int(body, "newDuration")
        )
    )
    session.commit()
    return _no_content()


@bp.post("/external-task/<task_id>/unlock")
def unlock_external_task(task_id: str) -> Response:
    session = db_session()
    actions.unlock(session, actor(), task_id)
    session.commit()
    return _no_content()


@bp.put("/external-task/<task_id>/retries")
def set_external_task_retries(task_id: str) -> Response:
    session = db_session()
    actions.set_retries(session, actor(), task_id, _int(_body(), "retries"))
    session.commit()
    return _no_content()


def _filter() -> queries.ExternalTaskFilter:
    first, limit = paging()
    sort = request.args.get("sortBy") or "createTime"
    if sort not in queries.SORTS:
        raise bad_request(f"Cannot set query parameter 'sortBy' to value '{sort}'")
    order = (request.args.get("sortOrder") or "asc").lower()
    if order not in ("asc", "desc"):
        raise bad_request(f"Cannot set query parameter 'sortOrder' to value '{order}'")
    locked = True if bool_arg("locked") else (False if bool_arg("notLocked") else None)
    retries_left = (
        True if bool_arg("withRetriesLeft") else (False if bool_arg("noRetriesLeft") else None)
    )
    arg = request.args.get
    return queries.ExternalTaskFilter(
        task_id=arg("externalTaskId") or None,
        topic=arg("topicName") or None,
        worker_id=arg("workerId") or None,
        instance_id=arg("processInstanceId") or None,
        element_id=arg("activityId") or None,
        process_key=arg("processDefinitionKey") or None,
        definition_id=arg("processDefinitionId") or None,
        business_key=arg("businessKey") or None,
        locked=locked,
        with_retries_left=retries_left,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=first,
    )


@bp.get("/external-task")
def list_external_tasks() -> Response:
    rows, _total = queries.list_tasks(db_session(), actor(), _filter())
    return jsonify([external_task_dto(row) for row in rows])


@bp.get("/external-task/count")
def count_external_tasks() -> Response:
    _rows, total = queries.list_tasks(db_session(), actor(), _filter())
    return jsonify({"count": total})


@bp.get("/external-task/<task_id>")
def get_external_task(task_id: str) -> Response:
    return jsonify(external_task_dto(queries.get_task(db_session(), actor(), task_id)))


@bp.get("/external-task/<task_id>/errorDetails")
def external_task_error_details(task_id: str) -> Response:
    task = queries.get_task(db_session(), actor(), task_id)
    return Response(task.error_details or "", mimetype="text/plain")
