"""Tasks: query, read, claim, unclaim, complete, identity links and form variables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.variables import to_typed, variables_in
from api.engine_rest.wire import (
    RestError,
    bad_request,
    bool_arg,
    camunda_date,
    paging,
)
from api.session import db_session
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.tasks import actions, forms, queries
from app.tasks.models import HumanTask

# Camunda's sortBy values corpflow can order by, mapped onto TaskFilter.sort.
SORTS = {"created": "created", "dueDate": "due", "priority": "priority"}
# Filters TaskFilter cannot express are applied to at most this many visible tasks.
SCAN_LIMIT = 10_000
FORM_TYPES = {
    "long": "Long",
    "boolean": "Boolean",
    "double": "Double",
    "string": "String",
    "enum": "String",
    "date": "String",
}
DEFAULT_DATE_PATTERN = "dd/MM/yyyy"


def no_content() -> Response:
    return Response(status=204)


def task_dto(task: HumanTask) -> dict[str, Any]:
    """`TaskDto` with every key pycamunda reads; corpflow has no cases, tenants or sub-tasks."""
    return {
        "id": task.id,
        "name": task.name,
        "assignee": task.assignee,
        "owner": task.owner,
        "created": camunda_date(task.created_at),
        "lastUpdated": None,
        "due": camunda_date(task.due_at),
        "followUp": camunda_date(task.follow_up_at),
        "delegationState": task.delegation_state,
        "description": task.documentation,
        "executionId": task.instance_id,
        "parentTaskId": None,
        "priority": task.priority,
        "processDefinitionId": task.definition_id,
        "processInstanceId": task.instance_id,
        "caseExecutionId": None,
        "caseDefinitionId": None,
        "caseInstanceId": None,
        "taskDefinitionKey": task.element_id,
        "suspended": False,
        "formKey": task.form_key,
        "camundaFormRef": None,
        "tenantId": None,
        "taskState": "Created" if task.status == "open" else task.status.capitalize(),
        "attachment": False,
        "comment": False,
    }


def _missing(task_id: str) -> RestError:
    return RestError(404, "RestException", f"No matching task with id {task_id}")


def visible_task(task_id: str, *, acting: bool = False) -> HumanTask:
    """An open task the caller may see; otherwise Camunda's 404 (finished tasks are history).

    `acting`: a candidate kept from the task by 审贷分离 gets past this check so that the use
    case can answer with the reason (403) instead of pretending the task does not exist.
    """
    try:
        task = actions.get_task(db_session(), task_id)
    except NotFoundError:
        raise _missing(task_id) from None
    me = actor()
    allowed = queries.can_see(task, me) or (acting and queries.is_candidate(task, me))
    if task.status != "open" or not allowed:
        raise _missing(task_id)
    return task


def _body() -> dict[str, Any]:
    body: Any = request.get_json(silent=True) if request.get_data() else {}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def _query() -> tuple[queries.TaskFilter, Callable[[HumanTask], bool] | None, int, int]:
    """Query parameters as a TaskFilter, plus a check for what TaskFilter cannot express."""
    first, limit = paging()
    me = actor().user_id
    sort_by = request.args.get("sortBy") or "created"
    if sort_by not in SORTS:
        raise bad_request(f"Cannot set query parameter 'sortBy' to value '{sort_by}'")
    order = (request.args.get("sortOrder") or "asc").lower()
    if order not in ("asc", "desc"):
        raise bad_request(f"Cannot set query parameter 'sortOrder' to value '{order}'")
    assignee = request.args.get("assignee") or None
    candidate_user = request.args.get("candidateUser") or None
    candidate_group = request.args.get("candidateGroup") or None
    definition_key = request.args.get("taskDefinitionKey") or None
    include_assigned = bool(bool_arg("includeAssignedTasks"))
    task_filter = queries.TaskFilter(
        assigned_to_me=assignee == me,
        # corpflow knows the caller's groups only: another user's candidate tasks are not
        # listed (and would not be claimable by the caller anyway).
        candidate_for_me=candidate_user == me and not include_assigned,
        candidate_group=candidate_group,
        process_key=request.args.get("processDefinitionKey") or None,
        instance_id=request.args.get("processInstanceId") or None,
        status="open",
        sort=SORTS[sort_by],
        order=order,
        limit=limit,
        offset=first,
    )
    checks: list[Callable[[HumanTask], bool]] = []
    if assignee is not None and assignee != me:
        checks.append(lambda t: t.assignee == assignee)
    if candidate_user is not None and candidate_user != me:
        checks.append(lambda _t: False)
    elif candidate_user is not None and include_assigned:
        checks.append(lambda t: queries.is_candidate(t, actor()))
    if candidate_group is not None and not include_assigned:
        # Camunda's candidate queries return only unassigned tasks by default.
        checks.append(lambda t: t.assignee is None)
    if definition_key is not None:
        checks.append(lambda t: t.element_id == definition_key)
    owner = request.args.get("owner") or None
    if owner is not None:
        checks.append(lambda t: t.owner == owner)
    delegation_state = request.args.get("delegationState") or None
    if delegation_state is not None:
        checks.append(lambda t: t.delegation_state == delegation_state)
    if not checks:
        return task_filter, None, first, limit
    return task_filter, (lambda t: all(check(t) for check in checks)), first, limit


def _matching() -> tuple[list[HumanTask], int]:
    task_filter, check, first, limit = _query()
    session = db_session()
    if check is None:
        return queries.list_tasks(session, actor(), task_filter)
    wide = queries.TaskFilter(
        **{**task_filter.__dict__, "limit": SCAN_LIMIT, "offset": 0},
    )
    rows, _total = queries.list_tasks(session, actor(), wide)
    kept = [row for row in rows if check(row)]
    return kept[first : first + limit], len(kept)


@bp.get("/task")
def list_tasks() -> Response:
    rows, _total = _matching()
    return jsonify([task_dto(row) for row in rows])


@bp.get("/task/count")
def count_tasks() -> Response:
    _rows, total = _matching()
    return jsonify({"count": total})


@bp.get("/task/<task_id>")
def get_task(task_id: str) -> Response:
    return jsonify(task_dto(visible_task(task_id)))


@bp.post("/task/<task_id>/claim")
def claim(task_id: str) -> Response:
    user_id = _body().get("userId")
    me = actor()
    if user_id is not None and user_id != me.user_id:
        raise RestError(
            403,
            "AuthorizationException",
            f"The user with id '{me.user_id}' may not claim task {task_id} for '{user_id}': "
            "corpflow lets users claim tasks only for themselves",
            userId=me.user_id,
            missingAuthorizations=[],
        )
    visible_task(task_id, acting=True)
    session = db_session()
    try:
        actions.claim(session, me, task_id)
    except ConflictError as exc:
        if exc.code != "task_already_claimed":
            raise
        raise RestError(
            500,
            "TaskAlreadyClaimedException",
            f"Task '{task_id}' is already claimed by someone else.",
        ) from None
    session.commit()
    return no_content()


@bp.post("/task/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    visible_task(task_id, acting=True)
    session = db_session()
    actions.unclaim(session, actor(), task_id)
    session.commit()
    return no_content()


@bp.post("/task/<task_id>/complete")
def complete(task_id: str) -> Response:
    """Complete with variables; always 204 (`withVariablesInReturn` is not honoured yet).

    Camunda's `/complete` skips form-field validation (only `submit-form` runs it). corpflow's
    complete use case always validates against the task's form, on both faces: one engine, one
    rule. A failure is a 400 like Camunda's `submit-form`.
    """
    values, _declared = variables_in(_body().get("variables"))
    visible_task(task_id, acting=True)
    session = db_session()
    try:
        actions.complete(session, actor(), task_id, values)
    except InvalidInputError as exc:
        reasons = "; ".join(f"{field}: {why}" for field, why in (exc.errors or {}).items())
        detail = f"{exc.message}: {reasons}" if reasons else exc.message
        raise bad_request(f"Cannot complete task {task_id}: {detail}") from None
    session.commit()
    return no_content()


@bp.get("/task/<task_id>/identity-links")
def identity_links(task_id: str) -> Response:
    task = visible_task(task_id)
    wanted = request.args.get("type") or None
    links: list[dict[str, Any]] = []
    if task.assignee is not None:
        links.append({"userId": task.assignee, "groupId": None, "type": "assignee"})
    if task.owner is not None:
        links.append({"userId": task.owner, "groupId": None, "type": "owner"})
    for candidate in sorted(task.candidates, key=lambda c: (c.kind, c.identity)):
        if candidate.kind == "group":
            links.append({"userId": None, "groupId": candidate.identity, "type": "candidate"})
        elif candidate.kind == "user":
            links.append({"userId": candidate.identity, "groupId": None, "type": "candidate"})
    if wanted is not None:
        links = [link for link in links if link["type"] == wanted]
    return jsonify(links)


def _form_value(field: dict[str, Any]) -> dict[str, Any]:
    value = field["value"] if field["value"] is not None else field["default"]
    kind = FORM_TYPES.get(field["type"], "String")
    if field["type"] == "date":
        value = forms.display_date(value, field["date_pattern"])
    return {"type": kind, "value": value, "valueInfo": {}}


@bp.get("/task/<task_id>/form-variables")
def form_variables(task_id: str) -> Response:
    """The form fields as typed form values (§8.3), then the task's other variables."""
    task = visible_task(task_id)
    form, variables = queries.form_and_variables(db_session(), task)
    names_arg = request.args.get("variableNames")
    names = {n.strip() for n in names_arg.split(",") if n.strip()} if names_arg else None
    body: dict[str, Any] = {}
    for field in form:
        if names is None or field["id"] in names:
            body[field["id"]] = _form_value(field)
    for name, value in variables.items():
        if name not in body and (names is None or name in names):
            body[name] = to_typed(value)
    return jsonify(body)
