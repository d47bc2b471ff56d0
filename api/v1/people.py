"""Natural persons: register, exact search by ID or mobile number, positions in customers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.people_schemas import (
    PersonArgs,
    PersonIn,
    PersonOut,
    PositionIn,
    PositionOut,
    RevealArgs,
)
from app.customers import customers
from app.people import disclosure, people

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/api/v1",
    description="Legal representatives, executives and shareholders who are natural persons",
)


@blp.route("/people")
class People(MethodView):
    @blp.arguments(PersonArgs, location="query")
    @blp.response(200, PersonOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Find persons by exact ID or mobile number; numbers are shown masked."""
        session = db_session()
        actor = current_actor()
        rows = people.search(
            session,
            actor,
            id_number=args.get("id_number"),
            id_type=args["id_type"],
            phone=args.get("phone"),
        )
        return list(disclosure.present(session, actor, rows).values())

    @blp.arguments(PersonIn)
    @blp.response(201, PersonOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Register a person; ID and mobile numbers are encrypted at rest."""
        session = db_session()
        actor = current_actor()
        person = people.register(session, actor, body)
        view = disclosure.present(session, actor, [person])[person.id]
        session.commit()
        return view


@blp.route("/people/<person_id>")
class PersonItem(MethodView):
    @blp.response(200, PersonOut)
    def get(self, person_id: str) -> Any:
        """One person, masked (clear values only through a customer the reader may see)."""
        session = db_session()
        actor = current_actor()
        person = people.get(session, actor, person_id)
        return disclosure.present(session, actor, [person])[person.id]


@blp.route("/customers/<customer_id>/people")
class Positions(MethodView):
    @blp.arguments(RevealArgs, location="query")
    @blp.response(200, PositionOut(many=True))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """The customer's legal representative, executives ...; reveal_reason shows numbers."""
        session = db_session()
        actor = current_actor()
        customer = customers.get(session, actor, customer_id)
        rows = people.positions_of(session, customer.id)
        views = disclosure.present(
            session,
            actor,
            [person for _, person in rows],
            reason=args.get("reveal_reason"),
            customer_id=customer.id,
        )
        session.commit()  # the unmask log, when numbers were revealed
        return [
            {"role": p.role, "appointed_on": p.appointed_on, "person": views[p.person_id]}
            for p, _ in rows
        ]

    @blp.arguments(PositionIn)
    @blp.response(201, PositionOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Record that a person holds a role in the customer."""
        session = db_session()
        actor = current_actor()
        position = people.appoint(session, actor, customer_id, body)
        person = people.get(session, actor, position.person_id)
        view = disclosure.present(session, actor, [person])[person.id]
        session.commit()
        return {"role": position.role, "appointed_on": position.appointed_on, "person": view}
