"""Called processes from the definition store: resolution, missing-process incidents, warnings."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deployments.definitions import compiled_by_id, compiled_process
from app.deployments.models import ProcessDefinition
from app.instances.models import Incident, ProcessInstance
from app.workflow.call_activities import CalledProcess, CalledResolver, CallRequest
from app.workflow.compiler import CompiledBpmn
from app.workflow.model import LintIssue
from app.workflow.runtime import Run

INCIDENT_KIND = "calledProcessMissing"


def called_resolver(session: Session, caller_definition_id: str) -> CalledResolver:
    """Camunda's bindings: latest (default), a fixed version, or the caller's deployment."""

    def resolve(request: CallRequest) -> CalledProcess | None:
        if request.pinned:
            return CalledProcess(request.pinned, compiled_by_id(session, request.pinned))
        query = select(ProcessDefinition).where(ProcessDefinition.key == request.key)
        if request.binding == "version" and (request.version or "").isdigit():
            query = query.where(ProcessDefinition.version == int(request.version or 0))
        elif request.binding == "deployment":
            caller = session.get(ProcessDefinition, caller_definition_id)
            deployment = caller.deployment_id if caller is not None else None
            query = query.where(ProcessDefinition.deployment_id == deployment)
        row = session.scalars(query.order_by(ProcessDefinition.version.desc()).limit(1)).first()
        if row is None:
            return None
        compiled = compiled_process(row)
        if request.key not in compiled.specs:
            return None  # deployed, but not executable
        return CalledProcess(row.id, compiled)

    return resolve


def record_blocked_calls(session: Session, instance: ProcessInstance, run: Run) -> None:
    """One open incident per call activity waiting for a process that is not deployed."""
    blocked = run.blocked_calls()
    if not blocked:
        return
    known = set(
        session.scalars(
            select(Incident.task_id).where(
                Incident.instance_id == instance.id,
                Incident.kind == INCIDENT_KIND,
                Incident.resolved_at.is_(None),
            )
        )
    )
    from app.instances.stepping import incident

    for view in blocked:
        if view.id not in known:
            incident(
                session,
                instance.id,
                view.element_id,
                view.id,
                INCIDENT_KIND,
                f"element '{view.element_id}': no executable process with key "
                f"'{view.called_key}' is deployed; deploy it and retry this incident",
            )


def retry_blocked_call(session: Session, instance: ProcessInstance) -> None:
    """An operator's retry: start the called processes that are deployed by now."""
    from app.errors import ConflictError
    from app.instances import stepping

    run = stepping.load(session, instance)
    before = {view.id for view in run.blocked_calls()}
    run.retry_blocked_calls()
    if {view.id for view in run.blocked_calls()} >= before and before:
        raise ConflictError(
            "the called process is still not deployed", code="called_process_missing"
        )
    stepping.save(session, instance, run)


def call_warnings(
    session: Session, compiled: CompiledBpmn, uploaded: Collection[str]
) -> list[LintIssue]:
    """Deploy-time warnings for call activities whose process is neither uploaded nor stored."""
    issues = []
    for proc in compiled.document.processes:
        for el in proc.elements.values():
            key = el.called_element
            if not key or key in uploaded or key in compiled.specs:
                continue
            stored = session.scalar(
                select(ProcessDefinition.id).where(ProcessDefinition.key == key).limit(1)
            )
            if stored is None:
                issues.append(
                    LintIssue(
                        "warning",
                        f"{compiled.document.filename}, line {el.line}, element '{el.id}': "
                        f"the called process '{key}' is not deployed; reaching it raises an "
                        "incident",
                        el.id,
                        el.line,
                    )
                )
    return issues
