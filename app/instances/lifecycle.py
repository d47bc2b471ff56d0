"""Use cases on process instances: start, read, list, cancel, and their history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.customers import scope
from app.customers.models import Customer
from app.db import utcnow
from app.deployments.definitions import (
    compiled_process,
    decision_resolver,
    get_process,
    latest_process,
)
from app.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.identity.actor import SYSTEM, Actor
from app.instances import called, stepping
from app.instances.models import HistoryEvent, ProcessInstance
from app.tasks import forms
from app.tasks.models import HumanTask
from app.workflow.model import ProcessModel
from app.workflow.runtime import Run


@dataclass(frozen=True)
class StartRequest:
    process_key: str
    variables: Mapping[str, Any]
    business_key: str | None = None
    customer_id: str | None = None
    definition_id: str | None = None


def start(
    session: Session, actor: Actor, request: StartRequest, *, fire_start: bool = False
) -> ProcessInstance:
    """Start an instance; `fire_start` passes a timer start event at once (its schedule is
    corpflow's start_timer row, which is due now)."""
    definition = (
        get_process(session, request.definition_id)
        if request.definition_id
        else latest_process(session, request.process_key)
    )
    compiled = compiled_process(definition)
    model = compiled.process(definition.key)
    ensure_may_start(actor, definition.key, model)
    in_variables = _text(request.variables.get("customer_id"))
    if request.customer_id and in_variables and request.customer_id != in_variables:
        raise InvalidInputError(
            "two different customers",
            errors={"customer_id": "the request and the variables name different customers"},
        )
    customer_id = request.customer_id or in_variables
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer_id is not None and (customer is None or not scope.can_see(actor, customer)):
        raise InvalidInputError(
            "unknown customer", errors={"customer_id": f"customer {customer_id} not found"}
        )
    variables = dict(request.variables)
    if model.start_form:
        typed = forms.validate(model.start_form, variables, {})
        extra = {k: v for k, v in variables.items() if k not in {f.id for f in model.start_form}}
        if extra:
            raise InvalidInputError(
                "unknown start variables",
                errors={k: "is not a field of the start form" for k in extra},
            )
        variables = typed
    if customer_id is not None:
        variables["customer_id"] = customer_id
    if model.initiator_variable:
        variables[model.initiator_variable] = actor.user_id
    instance = ProcessInstance(
        id=stepping.new_instance_id(),
        definition_id=definition.id,
        process_key=definition.key,
        business_key=request.business_key,
        customer_id=customer_id,
        status="running",
        state={},
        version=0,
        started_by=actor.user_id,
        started_at=utcnow(),
    )
    stepping.refresh_calendar(session)
    run = Run.start(
        compiled,
        definition.key,
        variables,
        decision_resolver(session),
        fire_start=fire_start,
        called=called.called_resolver(session, definition.id),
    )
    stepping.save(session, instance, run, new=True)
    stepping.history(
        session,
        instance,
        "instance_started",
        user_id=actor.user_id,
        at=instance.started_at,
        definition_id=definition.id,
        business_key=request.business_key,
    )
    return instance


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def get(session: Session, actor: Actor, instance_id: str) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"process instance {instance_id} not found")
    if not can_see(session, actor, instance):
        raise PermissionDeniedError("you are not involved in this process instance")
    return instance


def can_see(session: Session, actor: Actor, instance: ProcessInstance) -> bool:
    """Involved staff see an instance: its starter, performers, candidates; admins see all.
    An instance about a customer is seen only by those who may see the customer."""
    if actor.is_admin:
        return True
    if instance.customer_id is not None and not scope.sees_everything(actor):
        customer = session.get(Customer, instance.customer_id)
        if customer is not None and not scope.can_see(actor, customer):
            return False
    if instance.started_by == actor.user_id:
        return True
    involved = session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(HistoryEvent.instance_id == instance.id, HistoryEvent.user_id == actor.user_id)
    )
    if involved:
        return True
    from app.tasks.queries import is_candidate

    tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open")
    )
    return any(is_candidate(t, actor) for t in tasks)


def list_instances(
    session: Session,
    actor: Actor,
    *,
    process_key: str | None = None,
    status: str | None = None,
    business_key: str | None = None,
    customer_id: str | None = None,
    started_by: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ProcessInstance], int]:
    query = select(ProcessInstance)
    involved = involved_clause(actor)
    if involved is not None:
        query = query.where(involved)
    for column, value in (
        (ProcessInstance.process_key, process_key),
        (ProcessInstance.status, status),
        (ProcessInstance.business_key, business_key),
        (ProcessInstance.customer_id, customer_id),
        (ProcessInstance.started_by, started_by),
    ):
        if value:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def ensure_may_start(actor: Actor, key: str, model: ProcessModel) -> None:
    """camunda:candidateStarterGroups/-Users: only they may start the process (none = all)."""
    if (
        actor != SYSTEM
        and (model.starter_groups or model.starter_users)
        and not (actor.in_group(*model.starter_groups) or actor.user_id in model.starter_users)
    ):
        allowed = ", ".join([*model.starter_groups, *model.starter_users])
        raise PermissionDeniedError(f"only {allowed} may start '{key}'", code="not_a_starter")


def involved_clause(actor: Actor) -> ColumnElement[bool] | None:
    """Which instances a list shows the actor: those started or acted on, about customers in
    scope; None = all (admin)."""
    if actor.is_admin:
        return None
    mine = select(HistoryEvent.instance_id).where(HistoryEvent.user_id == actor.user_id)
    involved = (ProcessInstance.started_by == actor.user_id) | ProcessInstance.id.in_(mine)
    # Instances about a customer follow the customer's scope (org tree), like its tasks.
    return involved & scope.customer_filter(actor, ProcessInstance.customer_id)


def cancel(
    session: Session, actor: Actor, instance_id: str, *, reason: str | None = None
) -> ProcessInstance:
    """End a running instance where it stands (Camunda's delete): its open tasks, timers and
    jobs are cancelled, its history is kept. Administrators and the starter may cancel."""
    try:
        instance = stepping.lock_instance(session, instance_id)
    except NotFoundError:
        raise NotFoundError(f"process instance {instance_id} not found") from None
    if not (actor.is_admin or instance.started_by == actor.user_id):
        raise PermissionDeniedError(
            "only an administrator or the user who started it may cancel a process instance",
            code="not_allowed_to_cancel",
        )
    if instance.status != "running":
        raise NotFoundError(f"process instance {instance_id} is {instance.status}, not running")
    run = stepping.load(session, instance)
    run.cancel()
    instance.status = "cancelled"
    instance.ended_at = utcnow()
    stepping.history(
        session,
        instance,
        "instance_cancelled",
        user_id=actor.user_id,
        at=instance.ended_at,
        reason=reason,
    )
    stepping.save(session, instance, run)
    return instance


def history_of(session: Session, actor: Actor, instance_id: str) -> list[HistoryEvent]:
    get(session, actor, instance_id)
    return list(
        session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.at, HistoryEvent.id)
        )
    )


def open_tasks(session: Session, instance_id: str) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
            .order_by(HumanTask.created_at)
        )
    )
