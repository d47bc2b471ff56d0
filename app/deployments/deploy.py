"""Deploy BPMN/DMN files: lint everything first, then version only what changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.deployments.models import DecisionDefinition, Deployment, ProcessDefinition
from app.errors import InvalidInputError, ModelError, PermissionDeniedError
from app.identity.actor import ADMIN, PROCESS_DESIGNER, Actor
from app.instances import called, start_timers
from app.workflow.compiler import CACHE, Compiled, CompiledBpmn, CompiledDmn, compile_model
from app.workflow.compiler import content_hash as hash_of
from app.workflow.model import LintIssue
from handlers import registry as handler_registry

Definition = ProcessDefinition | DecisionDefinition


@dataclass
class DeployedFile:
    filename: str
    kind: str
    warnings: list[LintIssue] = field(default_factory=list)
    definitions: list[tuple[Definition, bool]] = field(default_factory=list)  # (row, created)


@dataclass
class DeploymentResult:
    deployment: Deployment | None
    files: list[DeployedFile]

    @property
    def created(self) -> bool:
        return any(created for f in self.files for _, created in f.definitions)


def _handler_warnings(compiled: CompiledBpmn) -> list[LintIssue]:
    issues = []
    known = set(handler_registry.names())
    for proc in compiled.document.processes:
        for el in proc.elements.values():
            if el.handler and el.handler not in known:
                issues.append(
                    LintIssue(
                        "warning",
                        f"{compiled.document.filename}, line {el.line}, element '{el.id}': "
                        f"no handler is registered under '{el.handler}'; reaching it raises an "
                        "incident",
                        el.id,
                        el.line,
                    )
                )
    return issues


def deploy(
    session: Session,
    actor: Actor,
    files: Sequence[tuple[str, bytes]],
    *,
    name: str | None = None,
    source: str | None = None,
    max_bytes: int = 5 * 1024 * 1024,
) -> DeploymentResult:
    """Deploy all files or none: any error in any file rejects the whole upload."""
    if not actor.in_group(PROCESS_DESIGNER, ADMIN):
        raise PermissionDeniedError("deploying models needs the process_designer role")
    if not files:
        raise InvalidInputError(
            "no model files in the upload",
            errors={"files": "attach one or more .bpmn or .dmn files"},
        )
    compiled: list[tuple[str, bytes, Compiled]] = []
    errors: dict[str, list[str]] = {}
    # The same problems with line and element id, for clients that point at them (the Modeler).
    issues: dict[str, list[dict[str, object]]] = {}
    for filename, content in files:
        try:
            item = compile_model(content, filename, max_bytes=max_bytes)
        except ModelError as exc:
            errors.setdefault(filename, []).append(exc.message)
            issues.setdefault(filename, []).append(
                LintIssue("error", exc.message, None, exc.details.get("line")).as_dict()
            )
            continue
        for issue in item.document.errors:
            errors.setdefault(filename, []).append(issue.message)
            issues.setdefault(filename, []).append(issue.as_dict())
        compiled.append((filename, content, item))
    seen: dict[str, str] = {}
    for filename, _content, item in compiled:
        ids = [p.id for p in item.document.processes if p.executable] + [
            d.id for d in item.document.decisions
        ]
        for key in ids:
            if key in seen and seen[key] != filename:
                message = f"{filename}: '{key}' is also defined in {seen[key]}"
                errors.setdefault(filename, []).append(message)
                issues.setdefault(filename, []).append(LintIssue("error", message, key).as_dict())
            seen[key] = filename
    if errors:
        first = next(iter(errors.values()))[0]
        raise ModelError(f"deployment rejected: {first}", errors=errors, issues=issues)

    deployment = Deployment(
        id=str(uuid.uuid4()), name=name or files[0][0], source=source, deployed_by=actor.user_id
    )
    results: list[DeployedFile] = []
    uploaded = {p.id for _, _, c in compiled for p in c.document.processes if p.executable}
    for filename, content, item in compiled:
        digest = hash_of(content)
        CACHE.put(digest, item)
        result = DeployedFile(filename, item.document.kind, list(item.document.warnings))
        if isinstance(item, CompiledBpmn):
            result.warnings += _handler_warnings(item)
            result.warnings += called.call_warnings(session, item, uploaded)
            for proc in item.document.processes:
                if proc.executable:
                    definition, created = _version(
                        session,
                        ProcessDefinition,
                        proc.id,
                        proc.name,
                        filename,
                        content,
                        digest,
                        deployment,
                    )
                    if created and isinstance(definition, ProcessDefinition):
                        session.flush()
                        start_timers.schedule(session, definition, proc)
                    result.definitions.append((definition, created))
        elif isinstance(item, CompiledDmn):
            for decision in item.document.decisions:
                result.definitions.append(
                    _version(
                        session,
                        DecisionDefinition,
                        decision.id,
                        decision.name,
                        filename,
                        content,
                        digest,
                        deployment,
                    )
                )
        results.append(result)
    outcome = DeploymentResult(None, results)
    if outcome.created:
        deployment.report = {f.filename: [w.as_dict() for w in f.warnings] for f in results}
        session.add(deployment)
        session.flush()
        outcome.deployment = deployment
    return outcome


def _version(
    session: Session,
    model: type[Definition],
    key: str,
    name: str | None,
    filename: str,
    content: bytes,
    digest: str,
    deployment: Deployment,
) -> tuple[Definition, bool]:
    latest: Any = session.scalars(
        select(model).where(model.key == key).order_by(model.version.desc()).limit(1)
    ).first()
    if latest is not None and latest.content_hash == digest:
        return latest, False
    version = (latest.version if latest is not None else 0) + 1
    row: Definition = model(
        id=f"{key}:{version}:{uuid.uuid4()}",
        key=key,
        version=version,
        name=name,
        resource_name=filename,
        content_hash=digest,
        content=content,
        deployment_id=deployment.id,
    )
    if inspect(deployment).transient:
        # The deployment row goes in first: without a relationship the unit of work does not
        # order the two inserts by their foreign key (two decisions of one DMN file failed).
        session.add(deployment)
        session.flush()
    session.add(row)
    return row, True


def deploy_directories(
    session: Session, actor: Actor, directories: Sequence[Any], *, max_bytes: int = 5 * 1024 * 1024
) -> DeploymentResult:
    """Deploy every .bpmn/.dmn under the given folders (start-up and `flask deploy`)."""
    files = []
    for directory in directories:
        for path in sorted(directory.glob("*")):
            if path.suffix in (".bpmn", ".dmn") and path.is_file():
                files.append((path.name, path.read_bytes()))
    if not files:
        return DeploymentResult(None, [])
    return deploy(session, actor, files, name="startup", source="corpflow", max_bytes=max_bytes)
