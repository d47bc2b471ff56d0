"""Facilities and loans of a customer, and loan classification with its history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_actor
from api.session import db_session
from api.v1.lending_schemas import (
    ClassificationOut,
    ClassifyIn,
    FacilityIn,
    FacilityOut,
    FacilityWithLoans,
    LoanIn,
    LoanOut,
    LoanServiceIn,
)
from app.customers import customers
from app.lending import facilities, loans

blp = Blueprint(
    "lending",
    __name__,
    url_prefix="/api/v1/customers",
    description="Facilities (授信), loans (借据) and five-category classification (五级分类)",
)


@blp.route("/<customer_id>/facilities")
class Facilities(MethodView):
    @blp.response(200, FacilityWithLoans(many=True))
    def get(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's facilities, each with its loans and worst loan classification."""
        session = db_session()
        customer = customers.get(session, current_actor(), customer_id)
        return facilities.with_loans(
            facilities.of_customer(session, customer.id), loans.of_customer(session, customer.id)
        )

    @blp.arguments(FacilityIn)
    @blp.response(201, FacilityOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Record a facility granted outside a process (the credit process creates its own)."""
        session = db_session()
        facility = facilities.create(session, current_actor(), customer_id, body)
        session.commit()
        return facility


@blp.route("/<customer_id>/loans")
class Loans(MethodView):
    @blp.response(200, LoanOut(many=True))
    def get(self, customer_id: str) -> Any:
        """The customer's loans, oldest first."""
        session = db_session()
        customer = customers.get(session, current_actor(), customer_id)
        return loans.of_customer(session, customer.id)

    @blp.arguments(LoanIn)
    @blp.response(201, LoanOut)
    def post(self, body: dict[str, Any], customer_id: str) -> Any:
        """Draw a loan under an active facility, within its available amount."""
        session = db_session()
        loan = loans.draw(session, current_actor(), customer_id, body)
        session.commit()
        return loan


@blp.route("/<customer_id>/loans/<loan_id>")
class LoanItem(MethodView):
    @blp.response(200, LoanOut)
    def get(self, customer_id: str, loan_id: str) -> Any:
        """One loan."""
        return loans.get(db_session(), current_actor(), customer_id, loan_id)

    @blp.arguments(LoanServiceIn)
    @blp.response(200, LoanOut)
    def patch(self, body: dict[str, Any], customer_id: str, loan_id: str) -> Any:
        """Update balance and days overdue; past a days-overdue floor the loan is downgraded."""
        session = db_session()
        loan = loans.service(session, current_actor(), customer_id, loan_id, body)
        session.commit()
        return loan


@blp.route("/<customer_id>/loans/<loan_id>/classification")
class Classification(MethodView):
    @blp.response(200, ClassificationOut(many=True))
    def get(self, customer_id: str, loan_id: str) -> Any:
        """The loan's classification history: who, when, from, to, why."""
        return loans.history(db_session(), current_actor(), customer_id, loan_id)

    @blp.arguments(ClassifyIn)
    @blp.response(200, LoanOut)
    def post(self, body: dict[str, Any], customer_id: str, loan_id: str) -> Any:
        """Reclassify a loan with a reason (risk officers); never milder than its overdue floor."""
        session = db_session()
        loan = loans.reclassify(session, current_actor(), customer_id, loan_id, body)
        session.commit()
        return loan
