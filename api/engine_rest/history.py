"""History: process instances, activity instances, tasks and variables, in Camunda's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.query import date_arg, list_arg, sorting, text_arg
from api.engine_rest.variables import to_typed
from api.engine_rest.wire import RestError, bool_arg, camunda_date, paging
from api.session import db_session
from app.instances import historic
from app.tasks import history as task_history
from app.tasks.models import HumanTask

INSTANCE_SORTS = {key: key for key in historic.INSTANCE_SORTS}
ACTIVITY_SORTS = {
    "activityInstanceId": "id",
    "instanceId": "instance_id",
    "executionId": "instance_id",
    "activityId": "activity_id",
    "activityName": "activity_name",
    "activityType": "activity_type",
    "startTime": "start",
    "endTime": "end",
    "duration": "duration",
    "definitionId": "definition_id",
    "occurrence": "occurrence",
}
TASK_SORTS = {key: key for key in task_history.SORTS}
DELETE_REASONS = {"completed": "completed", "cancelled": "deleted"}


def _millis(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def _finished() -> bool | None:
    if bool_arg("finished"):
        return True
    if bool_arg("unfinished"):
        return False
    return None


def _instance_filter(first: int = 0, limit: int = 1000) -> historic.InstanceFilter:
    sort, order = sorting(INSTANCE_SORTS, "startTime")
    states = [
        state
        for flag, state in (
            ("active", "ACTIVE"),
            ("completed", "COMPLETED"),
            ("externallyTerminated", "EXTERNALLY_TERMINATED"),
            ("internallyTerminated", "INTERNALLY_TERMINATED"),
        )
        if bool_arg(flag)
    ]
    single = text_arg("processInstanceId")
    ids = (*list_arg("processInstanceIds"), *([single] if single else []))
    return historic.InstanceFilter(
        instance_ids=ids,
        definition_id=text_arg("processDefinitionId"),
        process_keys=(*list_arg("processDefinitionKey"), *list_arg("processDefinitionKeyIn")),
        business_key=text_arg("processInstanceBusinessKey"),
        business_key_like=text_arg("processInstanceBusinessKeyLike"),
        finished=_finished(),
        states=tuple(states),
        started_before=date_arg("startedBefore"),
        started_after=date_arg("startedAfter"),
        finished_before=date_arg("finishedBefore"),
        finished_after=date_arg("finishedAfter"),
        started_by=text_arg("startedBy"),
        with_incidents=bool(bool_arg("withIncidents")),
        sort=sort,
        order=order,
        limit=limit,
        offset=first,
    )


def historic_instance_dto(item: historic.HistoricInstance) -> dict[str, Any]:
    row = item.instance
    return {
        "id": row.id,
        "rootProcessInstanceId": row.id,
        "superProcessInstanceId": None,
        "superCaseInstanceId": None,
        "caseInstanceId": None,
        "processDefinitionName": item.definition_name,
        "processDefinitionKey": row.process_key,
        "processDefinitionVersion": item.definition_version,
        "processDefinitionId": row.definition_id,
        "businessKey": row.business_key,
        "startTime": camunda_date(row.started_at),
        "endTime": camunda_date(row.ended_at),
        "removalTime": None,
        "durationInMillis": _millis(row.started_at, row.ended_at),
        "startUserId": row.started_by,
        "startActivityId": item.start_activity_id,
        "deleteReason": item.delete_reason,
        "tenantId": None,
        "state": item.state,
        "restartedProcessInstanceId": None,
    }


@bp.get("/history/process-instance")
def list_historic_instances() -> Response:
    first, limit = paging()
    rows, _total = historic.historic_instances(
        db_session(), actor(), _instance_filter(first, limit)
    )
    return jsonify([historic_instance_dto(row) for row in rows])


@bp.get("/history/process-instance/count")
def count_historic_instances() -> Response:
    paging()
    _rows, total = historic.historic_instances(db_session(), actor(), _instance_filter(0, 1))
    return jsonify({"count": total})


@bp.get("/history/process-instance/<instance_id>")
def get_historic_instance(instance_id: str) -> Response:
    rows, _total = historic.historic_instances(
        db_session(), actor(), historic.InstanceFilter(instance_ids=(instance_id,))
    )
    if not rows:
        raise RestError(
            404,
            "InvalidRequestException",
            f"Historic process instance with id {instance_id} does not exist",
        )
    return jsonify(historic_instance_dto(rows[0]))


def activity_dto(item: historic.ActivityInstance) -> dict[str, Any]:
    return {
        "id": item.id,
        "parentActivityInstanceId": item.instance_id,
        "activityId": item.activity_id,
        "activityName": item.activity_name,
        "activityType": item.activity_type,
        "processDefinitionKey": item.process_key,
        "processDefinitionId": item.definition_id,
        "processInstanceId": item.instance_id,
        "executionId": item.instance_id,
        "taskId": item.task_id,
        "assignee": item.assignee,
        "calledProcessInstanceId": None,
        "calledCaseInstanceId": None,
        "startTime": camunda_date(item.start),
        "endTime": camunda_date(item.end),
        "durationInMillis": _millis(item.start, item.end),
        "canceled": item.canceled,
        "completeScope": item.activity_type == "endEvent",
        "tenantId": None,
        "removalTime": None,
        "rootProcessInstanceId": item.instance_id,
    }


def _activities() -> list[historic.ActivityInstance]:
    first, limit = paging()
    sort, order = sorting(ACTIVITY_SORTS, "occurrence")
    single = text_arg("processInstanceId")
    scope = historic.InstanceFilter(
        instance_ids=(single,) if single else (),
        definition_id=text_arg("processDefinitionId"),
    )
    execution = text_arg("executionId")
    if execution:  # an execution of corpflow's is its instance
        scope = historic.InstanceFilter(**{**scope.__dict__, "instance_ids": (execution,)})
    f = historic.ActivityFilter(
        instance=scope,
        activity_instance_id=text_arg("activityInstanceId"),
        activity_id=text_arg("activityId"),
        activity_name=text_arg("activityName"),
        activity_type=text_arg("activityType"),
        task_assignee=text_arg("taskAssignee"),
        finished=_finished(),
        canceled=bool_arg("canceled"),
        started_before=date_arg("startedBefore"),
        started_after=date_arg("startedAfter"),
        finished_before=date_arg("finishedBefore"),
        finished_after=date_arg("finishedAfter"),
    )
    items = historic.activity_instances(db_session(), actor(), f)

    def key(item: historic.ActivityInstance) -> tuple[bool, Any]:
        if sort == "duration":
            value: Any = _millis(item.start, item.end)
        else:
            value = getattr(item, sort)
        return (value is None, value if value is not None else 0)

    present = sorted((i for i in items if key(i)[0] is False), key=key, reverse=order == "desc")
    missing = [i for i in items if key(i)[0] is True]
    return [*present, *missing][first : first + limit]


@bp.get("/history/activity-instance")
def list_historic_activities() -> Response:
    return jsonify([activity_dto(item) for item in _activities()])


@bp.get("/history/activity-instance/count")
def count_historic_activities() -> Response:
    return jsonify({"count": len(_activities())})


def _task_filter(first: int = 0, limit: int = 1000) -> task_history.TaskHistoryFilter:
    sort, order = sorting(TASK_SORTS, "startTime")
    return task_history.TaskHistoryFilter(
        task_id=text_arg("taskId"),
        instance_id=text_arg("processInstanceId") or text_arg("executionId"),
        business_key=text_arg("processInstanceBusinessKey"),
        definition_id=text_arg("processDefinitionId"),
        process_key=text_arg("processDefinitionKey"),
        definition_key=text_arg("taskDefinitionKey"),
        name=text_arg("taskName"),
        name_like=text_arg("taskNameLike"),
        assignee=text_arg("taskAssignee"),
        assignee_like=text_arg("taskAssigneeLike"),
        owner=text_arg("taskOwner"),
        finished=_finished(),
        due_before=date_arg("taskDueDateBefore"),
        due_after=date_arg("taskDueDateAfter"),
        had_candidate_group=text_arg("taskHadCandidateGroup"),
        had_candidate_user=text_arg("taskHadCandidateUser"),
        involved_user=text_arg("taskInvolvedUser"),
        sort=sort,
        order=order,
        limit=limit,
        offset=first,
    )


def historic_task_dto(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "processDefinitionKey": task.process_key,
        "processDefinitionId": task.definition_id,
        "processInstanceId": task.instance_id,
        "executionId": task.instance_id,
        "caseDefinitionKey": None,
        "caseDefinitionId": None,
        "caseInstanceId": None,
        "caseExecutionId": None,
        "activityInstanceId": f"{task.element_id}:{task.id}",
        "name": task.name,
        "description": task.documentation,
        "deleteReason": DELETE_REASONS.get(task.status),
        "owner": task.owner,
        "assignee": task.assignee,
        "startTime": camunda_date(task.created_at),
        "endTime": camunda_date(task.completed_at),
        "duration": _millis(task.created_at, task.completed_at),
        "taskDefinitionKey": task.element_id,
        "priority": task.priority,
        "due": camunda_date(task.due_at),
        "parentTaskId": None,
        "followUp": camunda_date(task.follow_up_at),
        "tenantId": None,
        "removalTime": None,
        "rootProcessInstanceId": task.instance_id,
        "taskState": {"open": "Created", "completed": "Completed", "cancelled": "Deleted"}.get(
            task.status, task.status
        ),
    }


@bp.get("/history/task")
def list_historic_tasks() -> Response:
    first, limit = paging()
    rows, _total = task_history.historic_tasks(db_session(), actor(), _task_filter(first, limit))
    return jsonify([historic_task_dto(row) for row in rows])


@bp.get("/history/task/count")
def count_historic_tasks() -> Response:
    paging()
    _rows, total = task_history.historic_tasks(db_session(), actor(), _task_filter(0, 1))
    return jsonify({"count": total})


@bp.get("/history/variable-instance")
def list_historic_variables() -> Response:
    """The variables of the matching instances as they stand (running) or ended; corpflow keeps
    no per-change variable history, so each variable appears once with its last value."""
    first, limit = paging()
    single = text_arg("processInstanceId")
    ids = (*list_arg("processInstanceIdIn"), *([single] if single else []))
    name = text_arg("variableName")
    rows, _total = historic.historic_instances(
        db_session(),
        actor(),
        historic.InstanceFilter(
            instance_ids=ids,
            definition_id=text_arg("processDefinitionId"),
            process_keys=list_arg("processDefinitionKey"),
            limit=historic.SCAN_INSTANCES,
        ),
    )
    found: list[dict[str, Any]] = []
    for item in rows:
        row = item.instance
        for var_name, value in sorted(row.variables.items()):
            if name is not None and var_name != name:
                continue
            found.append(
                {
                    "id": f"{row.id}:{var_name}",
                    "name": var_name,
                    **to_typed(value),
                    "processDefinitionKey": row.process_key,
                    "processDefinitionId": row.definition_id,
                    "processInstanceId": row.id,
                    "executionId": row.id,
                    "activityInstanceId": row.id,
                    "caseDefinitionKey": None,
                    "caseDefinitionId": None,
                    "caseInstanceId": None,
                    "caseExecutionId": None,
                    "taskId": None,
                    "errorMessage": None,
                    "tenantId": None,
                    "state": "CREATED",
                    "createTime": camunda_date(row.started_at),
                    "removalTime": None,
                    "rootProcessInstanceId": row.id,
                }
            )
    return jsonify(found[first : first + limit])
