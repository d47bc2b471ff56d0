"""Shareholdings, actual control, guarantees, groups, group exposure and beneficial owners."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.bodies import raw
from api.v1.people_schemas import RevealArgs
from api.v1.relations_schemas import (
    BeneficialOwnerOut,
    ControllerIn,
    GroupIn,
    GroupMemberOut,
    GroupOut,
    GroupSummaryOut,
    GuaranteeIn,
    GuaranteeOut,
    MemberIn,
    OwnershipOut,
    RelationshipsOut,
    ShareholderIn,
)
from app.customers import customers
from app.people import disclosure
from app.relations import graph, links, summaries

blp = Blueprint(
    "relations",
    __name__,
    url_prefix="/api/v1",
    description="Ownership, control, guarantees, groups (集团客户) and beneficial owners",
)


@blp.route("/customers/<customer_id>/relationships")
class Relationships(MethodView):
    @blp.response(200, RelationshipsOut)
    def get(self, customer_id: str) -> Any:
        """Shareholders, holdings, controllers, controlled companies, guarantees and group."""
        session = db_session()
        customer = customers.get(session, current_actor(), customer_id)
        return graph.direct(session, customer.id)


@blp.route("/customers/<customer_id>/shareholders")
class Shareholders(MethodView):
    @blp.arguments(ShareholderIn)
    @blp.response(201, OwnershipOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """A customer or person holds a percentage of this customer (total at most 100 %)."""
        session = db_session()
        edge = links.add_shareholder(session, current_actor(), customer_id, body)
        session.commit()
        return edge


@blp.route("/customers/<customer_id>/controllers")
class Controllers(MethodView):
    @blp.arguments(ControllerIn)
    @blp.response(201, OwnershipOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """A customer or person actually controls this customer (实际控制人)."""
        session = db_session()
        edge = links.add_controller(session, current_actor(), customer_id, body)
        session.commit()
        return edge


@blp.route("/customers/<customer_id>/guarantees")
class Guarantees(MethodView):
    @blp.arguments(GuaranteeIn)
    @blp.response(201, GuaranteeOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """A customer or person guarantees this customer's debts up to an amount."""
        session = db_session()
        guarantee = links.add_guarantee(session, current_actor(), customer_id, body)
        session.commit()
        return guarantee


@blp.route("/customers/<customer_id>/group")
class CustomerGroupView(MethodView):
    @blp.response(200, GroupSummaryOut)
    def get(self, customer_id: str) -> Any:
        """The customer's group (recorded and by control) and its exposure per currency."""
        session = db_session()
        customer = customers.get(session, current_actor(), customer_id)
        recorded = graph.direct(session, customer.id)["group"]
        return summaries.group(session, customer.id, recorded)


@blp.route("/customers/<customer_id>/beneficial-owners")
class BeneficialOwners(MethodView):
    @blp.arguments(RevealArgs, location="query")
    @blp.response(200, BeneficialOwnerOut(many=True))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """Computed from the ownership graph: >= 25 % through all chains, control, or fallback."""
        session = db_session()
        actor = current_actor()
        customer = customers.get(session, actor, customer_id)
        reason = disclosure.check_reason(actor, args.get("reveal_reason"))
        rows, _ = summaries.beneficial_owners(session, actor, customer.id, reason=reason)
        session.commit()  # the unmask log, when numbers were revealed
        return rows


@blp.route("/customer-groups")
class Groups(MethodView):
    @blp.arguments(GroupIn)
    @blp.response(201, GroupOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a group headed by its parent customer (the parent becomes a member)."""
        session = db_session()
        group = links.create_group(session, current_actor(), body)
        session.commit()
        body = raw(group, GroupOut)
        body["members"] = [{"id": i, "name": n} for i, n in links.members_of(session, group.id)]
        return body


@blp.route("/customer-groups/<group_id>")
class GroupItem(MethodView):
    @blp.response(200, GroupOut)
    def get(self, group_id: str) -> Any:
        """A group and its recorded members."""
        session = db_session()
        group = links.get_group(session, current_actor(), group_id)
        body = raw(group, GroupOut)
        body["members"] = [{"id": i, "name": n} for i, n in links.members_of(session, group.id)]
        return body


@blp.route("/customer-groups/<group_id>/members")
class GroupMembers(MethodView):
    @blp.arguments(MemberIn)
    @blp.response(201, GroupMemberOut)
    def post(self, body: dict[str, Any], group_id: str) -> Any:
        """Add a customer to the group (a customer belongs to at most one group)."""
        session = db_session()
        member = links.add_member(session, current_actor(), group_id, body)
        session.commit()
        return member
