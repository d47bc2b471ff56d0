"""`GET /deployment` and the Modeler's multipart `POST /deployment/create`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, current_app, jsonify, request

from api.engine_rest.blueprint import bp
from api.engine_rest.guard import actor
from api.engine_rest.wire import bad_request, deployment_dto, deployment_with_definitions, paging
from api.session import db_session
from app.deployments import definitions
from app.deployments.deploy import Definition, deploy
from app.errors import InvalidInputError

RESERVED = frozenset(
    {
        "deployment-name",
        "deployment-source",
        "enable-duplicate-filtering",
        "deploy-changed-only",
        "deployment-activation-time",
        "tenant-id",
    }
)
MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml")
# Deployed by Camunda but with nothing to run in corpflow: accepted, not stored.
IGNORED_SUFFIXES = (".form",)
NO_RESOURCES = "No deployment resources contained in the form upload."
_MODEL_NAMESPACES = (b"omg.org/spec/BPMN/20100524/MODEL", b"omg.org/spec/DMN/")


@dataclass(frozen=True)
class Upload:
    name: str | None
    source: str | None
    resources: list[tuple[str, bytes]]
    ignored: list[str]


def is_model(filename: str, content: bytes) -> bool:
    """By extension, else by sniffing (pycamunda names raw uploads `resource-0`, `resource-1`)."""
    lowered = filename.lower()
    if lowered.endswith(MODEL_SUFFIXES):
        return True
    if lowered.endswith(IGNORED_SUFFIXES) or lowered.endswith(".cmmn"):
        return False
    head = content[:4096].lstrip()
    return head.startswith(b"<") and any(ns in head for ns in _MODEL_NAMESPACES)


def read_upload(max_bytes: int) -> Upload:
    """Camunda's multipart rules: reserved fields aside, every part is a file named resource."""
    if request.mimetype != "multipart/form-data":
        raise bad_request("deployment/create expects a multipart/form-data body")
    for field in request.form:
        if field not in RESERVED:
            raise bad_request(
                f"Form part '{field}' has no filename: every part other than "
                f"{', '.join(sorted(RESERVED))} must be a file with a filename"
            )
    if (request.form.get("tenant-id") or "").strip():
        raise bad_request("corpflow has no tenants: deploy without a tenant id")
    resources: list[tuple[str, bytes]] = []
    ignored: list[str] = []
    for part, upload in request.files.items(multi=True):
        if part in RESERVED:
            continue
        if not upload.filename:
            raise bad_request(f"Form part '{part}' has no filename")
        if upload.filename.lower().endswith(".cmmn"):
            raise bad_request(f"{upload.filename}: corpflow does not run CMMN case definitions")
        # One byte past the limit, so deploy() reports an oversize file instead of truncating it.
        content = upload.stream.read(max_bytes + 1)
        upload.close()
        if is_model(upload.filename, content):
            resources.append((upload.filename, content))
        else:
            ignored.append(upload.filename)
    if not resources and not ignored:
        raise bad_request(NO_RESOURCES)
    name = request.form.get("deployment-name") or None
    source = request.form.get("deployment-source") or None
    return Upload(name, source, resources, ignored)


@bp.get("/deployment")
def list_deployments() -> Response:
    first, limit = paging()
    rows, _total = definitions.list_deployments(db_session(), limit=limit, offset=first)
    return jsonify([deployment_dto(row) for row in rows])


@bp.post("/deployment/create")
def create_deployment() -> Response:
    """Deploy through the same use case as `/api/v1/deployments`.

    corpflow versions each definition only when its content changed, so duplicate filtering is
    always on (`enable-duplicate-filtering` / `deploy-changed-only` change nothing); an unchanged
    upload answers with the definitions and the deployment that created them.
    """
    settings = current_app.extensions["corpflow"].settings
    upload = read_upload(settings.max_model_bytes)
    session = db_session()
    try:
        result = deploy(
            session,
            actor(),
            upload.resources,
            name=upload.name,
            source=upload.source,
            max_bytes=settings.max_model_bytes,
        )
    except InvalidInputError:
        if upload.resources:
            raise
        # Only ignored resources (a Camunda Form tab): deploy() has checked the caller may
        # deploy and refused the empty upload; Camunda answers 200 with nothing deployed.
        empty = deployment_with_definitions(None, [], name=upload.name, source=upload.source)
        return jsonify(empty)
    session.commit()
    rows: list[Definition] = [row for f in result.files for row, _created in f.definitions]
    deployment = result.deployment
    if deployment is None and rows:
        deployment, _created = definitions.get_deployment(session, rows[0].deployment_id)
    return jsonify(deployment_with_definitions(deployment, rows))
