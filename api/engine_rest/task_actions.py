"""Task hand-overs and form submission: assignee, delegate, resolve, submit-form."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.query import json_body
from api.engine_rest.tasks import no_content, visible_task
from api.engine_rest.variables import variables_in, variables_out
from api.engine_rest.wire import bad_request
from api.session import db_session
from app.errors import InvalidInputError
from app.instances import lifecycle
from app.tasks import actions, delegation


def _user_id(body: dict[str, Any], *, required: bool) -> str | None:
    user_id = body.get("userId")
    if user_id is None and not required:
        return None
    if not isinstance(user_id, str) or not user_id.strip():
        raise bad_request("userId must be a user id (a non-empty string)")
    return user_id.strip()


@bp.post("/task/<task_id>/assignee")
def set_assignee(task_id: str) -> Response:
    """`{"userId": …}` gives the task to that user; `{"userId": null}` clears the assignee."""
    user_id = _user_id(json_body(), required=False)
    visible_task(task_id, acting=True)
    session = db_session()
    delegation.set_assignee(session, actor(), task_id, user_id)
    session.commit()
    return no_content()


@bp.post("/task/<task_id>/delegate")
def delegate(task_id: str) -> Response:
    user_id = _user_id(json_body(), required=True)
    visible_task(task_id, acting=True)
    session = db_session()
    delegation.delegate(session, actor(), task_id, user_id)
    session.commit()
    return no_content()


@bp.post("/task/<task_id>/resolve")
def resolve(task_id: str) -> Response:
    values, _declared = variables_in(json_body().get("variables"))
    visible_task(task_id, acting=True)
    session = db_session()
    delegation.resolve(session, actor(), task_id, values)
    session.commit()
    return no_content()


@bp.post("/task/<task_id>/submit-form")
def submit_form(task_id: str) -> Response:
    """Validate against the task's camunda:formField definitions (a required field may keep
    the value its variable has, as in Camunda), then complete; 400 with every invalid field,
    and nothing changed, when validation fails."""
    body = json_body()
    values, declared = variables_in(body.get("variables"))
    task = visible_task(task_id, acting=True)
    session = db_session()
    try:
        actions.complete(session, actor(), task_id, values, keep_existing=True)
    except InvalidInputError as exc:
        session.rollback()
        reasons = "; ".join(
            f"Invalid value submitted for form field '{field}': {why}"
            for field, why in (exc.errors or {}).items()
        )
        raise bad_request(f"Cannot submit task form {task_id}: {reasons or exc.message}") from None
    session.commit()
    if not body.get("withVariablesInReturn"):
        return no_content()
    instance = lifecycle.get(session, actor(), task.instance_id)
    return jsonify(variables_out(dict(instance.variables), declared))
