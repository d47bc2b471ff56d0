"""Deployments and definitions: upload, list, read, download the XML."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import page, paged, raw
from api.v1.schemas import (
    DefinitionArgs,
    DefinitionOut,
    DeploymentDetail,
    DeploymentOut,
    DeploymentSummary,
    PageArgs,
)
from app.deployments import definitions
from app.deployments.deploy import DeploymentResult, deploy
from app.errors import InvalidInputError

blp = Blueprint(
    "deployments",
    __name__,
    url_prefix="/api/v1",
    description="Deploy BPMN/DMN models and read definitions",
)


def deployment_body(result: DeploymentResult) -> dict[str, Any]:
    return {
        "id": result.deployment.id if result.deployment else None,
        "name": result.deployment.name if result.deployment else None,
        "created": result.created,
        "files": [
            {
                "filename": f.filename,
                "kind": f.kind,
                "warnings": [w.as_dict() for w in f.warnings],
                "definitions": [
                    {"id": d.id, "key": d.key, "version": d.version, "created": created}
                    for d, created in f.definitions
                ],
            }
            for f in result.files
        ],
    }


@blp.route("/deployments")
class Deployments(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, paged(DeploymentSummary))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Deployments, newest first, with their lint reports."""
        current_actor()
        rows, total = definitions.list_deployments(
            db_session(), limit=args["limit"], offset=args["offset"]
        )
        return page(rows, total, args)

    @blp.response(201, DeploymentOut)
    def post(self) -> Any:
        """Deploy one or more .bpmn/.dmn files (multipart); all or nothing, with a lint report.

        A definition gets a new version only when its content changed; 201 either way, with
        `created` telling whether anything new was stored.
        """
        actor = current_actor()
        uploads = [f for _name, f in request.files.items(multi=True)]
        if not uploads:
            raise InvalidInputError(
                "no files in the upload", errors={"files": "send multipart/form-data file parts"}
            )
        settings = current_app.extensions["corpflow"].settings
        files = []
        for upload in uploads:
            filename = upload.filename or upload.name or "upload"
            # Read one byte past the limit so an oversize file is detected, not truncated.
            files.append((filename, upload.stream.read(settings.max_model_bytes + 1)))
            upload.close()
        session = db_session()
        result = deploy(
            session,
            actor,
            files,
            name=request.form.get("name"),
            source=request.form.get("source", "api"),
            max_bytes=settings.max_model_bytes,
        )
        session.commit()
        return deployment_body(result)


@blp.route("/deployments/<deployment_id>")
class DeploymentItem(MethodView):
    @blp.response(200, DeploymentDetail)
    def get(self, deployment_id: str) -> dict[str, Any]:
        """One deployment and the definitions it created."""
        current_actor()
        row, created = definitions.get_deployment(db_session(), deployment_id)
        body = raw(row, DeploymentSummary)
        body["definitions"] = created
        return body


@blp.route("/process-definitions")
class ProcessDefinitions(MethodView):
    @blp.arguments(DefinitionArgs, location="query")
    @blp.response(200, paged(DefinitionOut))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Process definitions, newest version first; `latest=true` for one per key."""
        current_actor()
        rows, total = definitions.list_processes(
            db_session(),
            key=args.get("key"),
            latest_only=args["latest"],
            limit=args["limit"],
            offset=args["offset"],
        )
        return page(rows, total, args)


@blp.route("/process-definitions/<definition_id>")
class ProcessDefinitionItem(MethodView):
    @blp.response(200, DefinitionOut)
    def get(self, definition_id: str) -> Any:
        """One process definition."""
        current_actor()
        return definitions.get_process(db_session(), definition_id)


@blp.route("/process-definitions/<definition_id>/xml")
class ProcessDefinitionXml(MethodView):
    @blp.response(200, content_type="application/xml")
    def get(self, definition_id: str) -> Response:
        """The BPMN XML exactly as deployed."""
        current_actor()
        row = definitions.get_process(db_session(), definition_id)
        return Response(
            row.content,
            mimetype="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{row.resource_name}"'},
        )


@blp.route("/decision-definitions")
class DecisionDefinitions(MethodView):
    @blp.response(200, DefinitionOut(many=True))
    def get(self) -> Any:
        """Decision definitions, newest version first."""
        current_actor()
        return definitions.list_decisions(db_session())


@blp.route("/decision-definitions/<definition_id>")
class DecisionDefinitionItem(MethodView):
    @blp.response(200, DefinitionOut)
    def get(self, definition_id: str) -> Any:
        """One decision definition."""
        current_actor()
        return definitions.get_decision(db_session(), definition_id)


@blp.route("/decision-definitions/<definition_id>/xml")
class DecisionDefinitionXml(MethodView):
    @blp.response(200, content_type="application/xml")
    def get(self, definition_id: str) -> Response:
        """The DMN XML exactly as deployed."""
        current_actor()
        row = definitions.get_decision(db_session(), definition_id)
        return Response(
            row.content,
            mimetype="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{row.resource_name}"'},
        )
