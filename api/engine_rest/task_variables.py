"""A task's variables (the variables of its instance) and its local variables (none)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.instance_variables import modifications, one_value, variable_dto
from api.engine_rest.tasks import no_content, visible_task
from api.engine_rest.variables import variables_out
from api.engine_rest.wire import RestError
from api.session import db_session
from app.instances import variables
from app.tasks import queries
from app.tasks.models import HumanTask

NO_LOCALS = (
    "corpflow tasks have no local variables: a task reads and writes the variables of its "
    "process instance (use /task/{id}/variables)"
)


def _visible_variables(task: HumanTask) -> dict[str, Any]:
    """The instance's variables, as a task the caller may see shows them."""
    _form, values = queries.form_and_variables(db_session(), task)
    return values


@bp.get("/task/<task_id>/variables")
def get_task_variables(task_id: str) -> Response:
    task = visible_task(task_id)
    return jsonify(variables_out(_visible_variables(task), {}))


@bp.post("/task/<task_id>/variables")
def modify_task_variables(task_id: str) -> Response:
    """Writes go to the instance; only the task's assignee (or an administrator) may write."""
    values, deletions = modifications()
    task = visible_task(task_id, acting=True)
    session = db_session()
    variables.set_variables(session, actor(), task.instance_id, values, deletions, task_id=task.id)
    session.commit()
    return no_content()


@bp.get("/task/<task_id>/variables/<name>")
def get_task_variable(task_id: str, name: str) -> Response:
    return variable_dto(_visible_variables(visible_task(task_id)), name, "task")


@bp.put("/task/<task_id>/variables/<name>")
def put_task_variable(task_id: str, name: str) -> Response:
    value = one_value(name)
    task = visible_task(task_id, acting=True)
    session = db_session()
    variables.set_variables(session, actor(), task.instance_id, {name: value}, task_id=task.id)
    session.commit()
    return no_content()


@bp.delete("/task/<task_id>/variables/<name>")
def delete_task_variable(task_id: str, name: str) -> Response:
    task = visible_task(task_id, acting=True)
    session = db_session()
    variables.set_variables(session, actor(), task.instance_id, {}, [name], task_id=task.id)
    session.commit()
    return no_content()


@bp.get("/task/<task_id>/localVariables")
def get_local_variables(task_id: str) -> Response:
    visible_task(task_id)
    return jsonify({})


@bp.get("/task/<task_id>/localVariables/<name>")
def get_local_variable(task_id: str, name: str) -> Response:
    visible_task(task_id)
    return variable_dto({}, name, "task")


@bp.route("/task/<task_id>/localVariables", methods=["POST"])
@bp.route("/task/<task_id>/localVariables/<name>", methods=["PUT", "DELETE"])
def write_local_variables(task_id: str, name: str | None = None) -> Response:
    visible_task(task_id, acting=True)
    raise RestError(400, "InvalidRequestException", NO_LOCALS)
