"""Task list: list, read, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged, raw
from api.v1.schemas import CompleteIn, TaskArgs, TaskBrief, TaskDetail
from app.customers.customers import summary
from app.errors import NotFoundError
from app.tasks import actions, queries
from app.tasks.models import HumanTask

blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Staff task list: what I hold and what I may claim",
)


def _detail(task: HumanTask) -> dict[str, Any]:
    session = db_session()
    form, variables = queries.form_and_variables(session, task)
    body = raw(task, TaskBrief)
    body.update(
        documentation=task.documentation,
        form=form,
        variables=variables,
        customer=summary(session, task.customer_id),
    )
    return body


@blp.route("")
class TaskList(MethodView):
    @blp.arguments(TaskArgs, location="query")
    @blp.response(200, paged(TaskBrief))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List tasks I hold or may claim, filtered, sorted and paged."""
        rows, total = queries.list_tasks(db_session(), current_actor(), queries.TaskFilter(**args))
        return page(rows, total, args)


@blp.route("/<task_id>")
class TaskItem(MethodView):
    @blp.response(200, TaskDetail)
    def get(self, task_id: str) -> dict[str, Any]:
        """A task with its form, current variables and customer summary."""
        actor = current_actor()
        task = actions.get_task(db_session(), task_id)
        if not queries.can_see(task, actor):
            raise NotFoundError(f"task {task_id} not found")
        return _detail(task)


@blp.route("/<task_id>/claim")
class ClaimTask(MethodView):
    @blp.response(200, TaskBrief)
    def post(self, task_id: str) -> HumanTask:
        """Claim a task (409 when someone else holds it)."""
        session = db_session()
        task = actions.claim(session, current_actor(), task_id)
        session.commit()
        return task


@blp.route("/<task_id>/unclaim")
class UnclaimTask(MethodView):
    @blp.response(200, TaskBrief)
    def post(self, task_id: str) -> HumanTask:
        """Give a claimed task back to its candidates."""
        session = db_session()
        task = actions.unclaim(session, current_actor(), task_id)
        session.commit()
        return task


@blp.route("/<task_id>/complete")
class CompleteTask(MethodView):
    @blp.arguments(CompleteIn)
    @blp.response(200, TaskBrief)
    def post(self, body: dict[str, Any], task_id: str) -> HumanTask:
        """Complete my task with validated form values (422 lists every bad field)."""
        session = db_session()
        task = actions.complete(session, current_actor(), task_id, body["values"])
        session.commit()
        return task
