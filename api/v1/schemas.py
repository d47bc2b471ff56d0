"""marshmallow schemas of the native API: request bodies, query strings and responses."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = "raise"


class QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE


class PageArgs(QuerySchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))


class TokenOut(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()


class MeOut(Schema):
    id = fields.String()
    groups = fields.List(fields.String())


class LintIssueOut(Schema):
    severity = fields.String()
    message = fields.String()
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)


class DefinitionOut(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    resource_name = fields.String()
    deployment_id = fields.String()
    content_hash = fields.String()
    created_at = fields.DateTime()


class DeploymentSummary(Schema):
    id = fields.String()
    name = fields.String()
    source = fields.String(allow_none=True)
    deployed_by = fields.String(allow_none=True)
    deployed_at = fields.DateTime()
    report = fields.Dict()


class DeploymentDetail(DeploymentSummary):
    definitions = fields.List(fields.Nested(lambda: DefinitionOut()))


class DeployedFileOut(Schema):
    filename = fields.String()
    kind = fields.String()
    warnings = fields.List(fields.Nested(LintIssueOut))
    definitions = fields.List(fields.Dict())


class DeploymentOut(Schema):
    id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    created = fields.Boolean()
    files = fields.List(fields.Nested(DeployedFileOut))


class DefinitionArgs(PageArgs):
    key = fields.String()
    latest = fields.Boolean(load_default=False)


class StartIn(StrictSchema):
    process_key = fields.String(required=True, validate=validate.Length(1, 100))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    business_key = fields.String(allow_none=True, validate=validate.Length(max=200))
    customer_id = fields.String(allow_none=True)


class InstanceArgs(PageArgs):
    process_key = fields.String()
    status = fields.String(validate=validate.OneOf(["running", "completed", "cancelled"]))
    business_key = fields.String()
    customer_id = fields.String()
    started_by = fields.String()


class TaskBrief(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    element_id = fields.String()
    instance_id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    customer_id = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    candidate_users = fields.List(fields.String())
    priority = fields.Integer()
    due_at = fields.DateTime(allow_none=True)
    due_estimated = fields.Boolean()
    follow_up_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)
    status = fields.String()
    form_key = fields.String(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class TaskDetail(TaskBrief):
    documentation = fields.String(allow_none=True)
    form = fields.List(fields.Dict())
    variables = fields.Dict()
    customer = fields.Dict(allow_none=True)


class InstanceOut(Schema):
    id = fields.String()
    definition_id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    customer_id = fields.String(allow_none=True)
    status = fields.String()
    started_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    end_element = fields.String(allow_none=True)


class InstanceDetail(InstanceOut):
    next_timer = fields.Nested(lambda: TimerOut(), allow_none=True)
    variables = fields.Dict()
    active_elements = fields.List(fields.String())
    open_tasks = fields.List(fields.Nested(TaskBrief))


class HistoryOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    element_kind = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    at = fields.DateTime()
    detail = fields.Dict()


class TaskArgs(PageArgs):
    assigned_to_me = fields.Boolean(load_default=False)
    candidate_for_me = fields.Boolean(load_default=False)
    candidate_group = fields.String()
    process_key = fields.String()
    customer_id = fields.String()
    instance_id = fields.String()
    due_before = fields.AwareDateTime(default_timezone=None)
    due_after = fields.AwareDateTime(default_timezone=None)
    min_priority = fields.Integer()
    status = fields.String(
        load_default="open", validate=validate.OneOf(["open", "completed", "cancelled", "all"])
    )
    sort = fields.String(
        load_default="created", validate=validate.OneOf(["due", "priority", "created"])
    )
    order = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))


class CompleteIn(StrictSchema):
    values = fields.Dict(keys=fields.String(), load_default=dict)


class UserIn(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{1,64}$"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 200))
    display_name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.Email(allow_none=True)
    groups = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list)


class UserOut(Schema):
    id = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    groups = fields.List(fields.String(), attribute="group_ids")
    active = fields.Boolean()


class IncidentOut(Schema):
    id = fields.String()
    instance_id = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    kind = fields.String()
    message = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class IncidentArgs(PageArgs):
    open = fields.Boolean(load_default=True)
    instance_id = fields.String()


class TimerOut(Schema):
    id = fields.String()
    instance_id = fields.String()
    element_id = fields.String()
    due_at = fields.DateTime()
    status = fields.String()
    estimated = fields.Boolean()
    enqueued_at = fields.DateTime(allow_none=True)
    fired_at = fields.DateTime(allow_none=True)


class TimerArgs(PageArgs):
    instance_id = fields.String()
    due_before = fields.AwareDateTime(default_timezone=None)
