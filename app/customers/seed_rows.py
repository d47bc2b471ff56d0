"""Rows for seeded customers: a synthetic company and everything around it, as table tuples.

Pure row building (no database): `RowMaker.add(company)` appends the company's rows to the
current batch and `take()` hands the batch over. Ids are drawn from the bank's seeded random
stream, so the same seed gives the same ids; personal data is sealed with the process cipher
exactly as app.people.people.register stores it (ciphertexts differ run to run: fresh nonces).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.customers import records
from app.customers.seed_servicing import complaint_rows, interaction_rows, signal_rows
from app.customers.synthetic import Company, Person, SyntheticBank, pick
from app.lending.categories import rank
from app.people import identifiers
from app.people.cipher import Cipher

# Table -> columns, in the order the tuples are built; parents before children.
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (
        "id", "name", "id_type", "id_number_sealed", "id_number_hash", "id_number_masked",
        "phone_sealed", "phone_hash", "phone_masked", "nationality", "created_by", "created_at",
    ),
    "customer": (
        "id", "uscc", "name", "legal_representative", "registered_capital", "capital_currency",
        "industry_code", "region_code", "establishment_date", "size_class", "status",
        "risk_rating", "rm_id", "team_id", "branch_id", "custom", "version", "created_by",
        "created_at", "updated_by", "updated_at",
    ),
    "customer_source": ("source_system", "external_id", "customer_id", "created_at"),
    "customer_rm_assignment": (
        "customer_id", "rm_id", "team_id", "branch_id", "valid_from", "valid_to", "assigned_by",
    ),
    "customer_change": (
        "txid", "customer_id", "version", "field", "old_value", "new_value", "source",
        "source_system", "changed_by", "changed_at",
    ),
    "person_position": (
        "customer_id", "person_id", "role", "appointed_on", "created_by", "created_at",
    ),
    "customer_group": ("id", "name", "parent_customer_id", "created_by", "created_at"),
    "customer_group_member": ("customer_id", "group_id", "created_by", "created_at"),
    "ownership": (
        "id", "kind", "held_id", "holder_customer_id", "holder_person_id", "percentage",
        "basis", "created_by", "created_at",
    ),
    "facility": (
        "id", "customer_id", "source_key", "product", "amount", "currency", "term_months",
        "start_date", "maturity_date", "guarantee_type", "approver_group", "status",
        "created_by", "created_at",
    ),
    "loan": (
        "id", "facility_id", "customer_id", "contract_no", "amount", "balance", "currency",
        "start_date", "maturity_date", "days_overdue", "classification", "status",
        "created_by", "created_at",
    ),
    "loan_classification_change": (
        "loan_id", "from_category", "to_category", "reason", "changed_by", "changed_at",
    ),
    "guarantee": (
        "id", "borrower_id", "guarantor_customer_id", "guarantor_person_id", "facility_id",
        "amount", "currency", "created_by", "created_at",
    ),
    "interaction": (
        "id", "customer_id", "kind", "purpose", "occurred_at", "summary", "participants",
        "next_action", "next_action_due", "recorded_by", "created_at",
    ),
    "complaint": (
        "id", "customer_id", "channel", "category", "complexity", "summary",
        "complainant_name", "received_at", "due_at", "extended_by", "extension_reason",
        "status", "resolution", "root_cause", "resolved_by", "resolved_at", "recorded_by",
        "created_at",
    ),
    "risk_signal": (
        "id", "customer_id", "source", "category", "severity", "headline", "detail", "url",
        "detected_at", "verify_due", "verify_due_estimated", "status", "disposition",
        "raised_by", "updated_by", "updated_at", "created_at",
    ),
}  # fmt: skip
PRODUCTS = (
    ("working_capital", 0.55), ("bank_acceptance", 0.15), ("fixed_asset", 0.1),
    ("trade_finance", 0.08), ("letter_of_guarantee", 0.07), ("comprehensive", 0.05),
)  # fmt: skip
GUARANTEE_TYPES = (
    ("guarantee", 0.35), ("mortgage", 0.35), ("credit", 0.15), ("pledge", 0.1),
    ("low_risk", 0.05),
)  # fmt: skip
BY = "seed-demo"
# Version 4 and the RFC 4122 variant in a 128-bit random number.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


@dataclass(frozen=True)
class Owner:
    """Who manages the seeded customers of a group: an RM with their team and branch."""

    rm_id: str
    team_id: str | None
    branch_id: str | None


class RowMaker:
    """Builds the rows of one seeded bank; references stay inside a group of companies."""

    def __init__(
        self,
        bank: SyntheticBank,
        cipher: Cipher,
        owners: Sequence[Owner],
        *,
        now: datetime,
        txid: int,
        source_system: str,
        seed: int,
        workdays: Any,
    ) -> None:
        self.bank, self.random, self.cipher = bank, bank.random, cipher
        self.owners, self.now, self.txid = owners, now, txid
        self.source_system, self.seed, self.workdays = source_system, seed, workdays
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        self._ids: dict[str, str] = {}
        self._group: str | None = None
        self._owner = owners[0]
        self._serial = 0

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        rows, self.rows = self.rows, {name: [] for name in COLUMNS}
        return rows

    def _id(self) -> str:
        """A random (version 4) UUID from the seeded stream, formatted without uuid.UUID."""
        bits = self.random.getrandbits(128) & _UUID_CLEAR | _UUID_SET
        h = f"{bits:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _ref(self, key: str) -> str:
        if key not in self._ids:
            self._ids[key] = self._id()
        return self._ids[key]

    def add(self, company: Company) -> None:
        if company.group_key is None or company.group_key != self._group:
            # A new group (or a company on its own): earlier keys are never referred to again.
            self._ids.clear()
            self._group = company.group_key
            self._owner = self.random.choice(self.owners)
        self._serial += 1
        customer_id = self._ref(company.key)
        created = self.now - timedelta(days=self.random.uniform(1, 5 * 365))
        self._customer(company, customer_id, created)
        self._people(company, customer_id, created)
        self._relations(company, customer_id, created)
        facility = self._lending(company, customer_id, created)
        self._guarantee(company, customer_id, facility, created)
        rm = self._owner.rm_id
        name = company.legal_representative.name
        for table, made in (
            ("interaction", interaction_rows(self.random, customer_id, name, rm, self.now)),
            ("complaint", complaint_rows(self.random, customer_id, name, rm, self.now)),
            (
                "risk_signal",
                signal_rows(self.random, company.name, customer_id, self.now, self.workdays),
            ),
        ):
            for row in made:
                self.rows[table].append((self._id(), *row))

    def _customer(self, company: Company, customer_id: str, created: datetime) -> None:
        owner = self._owner
        capital = (company.registered_capital * 10_000).quantize(Decimal("0.01"))
        custom = {"aml_risk_level": company.aml_level}
        values = {
            "uscc": company.uscc,
            "name": company.name,
            "legal_representative": company.legal_representative.name,
            "registered_capital": capital,
            "capital_currency": "CNY",
            "industry_code": company.industry_code,
            "region_code": company.region_code,
            "establishment_date": company.established_on,
            "size_class": company.size_class,
            "status": company.status,
            "risk_rating": company.risk_rating,
            "rm_id": owner.rm_id,
            "team_id": owner.team_id,
            "branch_id": owner.branch_id,
        }
        self.rows["customer"].append(
            (customer_id, *values.values(), custom, 1, BY, created, BY, created)
        )
        external_id = f"C{self.seed % 1000:03d}{self._serial:09d}"
        self.rows["customer_source"].append((self.source_system, external_id, customer_id, created))
        self.rows["customer_rm_assignment"].append(
            (customer_id, owner.rm_id, owner.team_id, owner.branch_id, created, None, BY)
        )
        snapshot = {k: records.plain(v) for k, v in values.items()}
        snapshot["custom"] = custom
        self.rows["customer_change"].append(
            (
                self.txid,
                customer_id,
                1,
                "*",
                None,
                snapshot,
                "sync",
                self.source_system,
                BY,
                created,
            )
        )

    def _person(self, person: Person, created: datetime) -> str:
        person_id = self._ref(person.key)
        box, number, phone = self.cipher, person.id_number, person.mobile
        self.rows["person"].append(
            (
                person_id,
                person.name,
                "resident_id",
                box.seal(number, f"person:{person_id}:id_number"),
                box.lookup("resident_id", number),
                identifiers.mask(number),
                box.seal(phone, f"person:{person_id}:phone"),
                box.lookup("phone", phone),
                identifiers.mask(phone),
                "CHN",
                BY,
                created,
            )
        )
        return person_id

    def _people(self, company: Company, customer_id: str, created: datetime) -> None:
        founded = company.established_on
        tenure = (date.today() - founded).days
        appointed = founded + timedelta(days=int(self.random.random() * tenure))
        lr = self._person(company.legal_representative, created)
        positions = [(lr, "legal_representative")]
        if self.random.random() < 0.5:
            positions.append((lr, "general_manager"))
        for owner in company.owners:
            self._person(owner, created)
        if company.owners:
            positions.append((self._ref(company.owners[0].key), "chairman"))
        for person_id, role in positions:
            self.rows["person_position"].append(
                (customer_id, person_id, role, appointed, BY, created)
            )

    def _relations(self, company: Company, customer_id: str, created: datetime) -> None:
        for holder, percentage in company.shareholders:
            is_person = holder.startswith("P")
            self.rows["ownership"].append(
                (
                    self._id(),
                    "shareholding",
                    customer_id,
                    None if is_person else self._ref(holder),
                    self._ref(holder) if is_person else None,
                    percentage,
                    None,
                    BY,
                    created,
                )
            )
        if company.group_key is None:
            return
        group_id = self._ref(company.group_key)
        if company.group_key == f"G{company.key}":
            name = company.name.removesuffix("股份有限公司").removesuffix("有限公司") + "集团"
            self.rows["customer_group"].append((group_id, name, customer_id, BY, created))
        self.rows["customer_group_member"].append((customer_id, group_id, BY, created))

    def _lending(self, company: Company, customer_id: str, created: datetime) -> str | None:
        if company.facility_amount is None or not company.loans:
            return None
        facility_id = self._id()
        start = min(loan.disbursed_on for loan in company.loans) - timedelta(
            days=self.random.randrange(60)
        )
        self.rows["facility"].append(
            (
                facility_id, customer_id, None, pick(self.random, PRODUCTS),
                company.facility_amount, "CNY", 36, start, start + timedelta(days=3 * 365),
                pick(self.random, GUARANTEE_TYPES), "branch_manager", "active", BY, created,
            )
        )  # fmt: skip
        for loan in company.loans:
            loan_id = self._id()
            self.rows["loan"].append(
                (
                    loan_id, facility_id, customer_id, f"LN{self.seed % 1000:03d}-{loan.key}",
                    loan.amount, loan.balance, "CNY", loan.disbursed_on, loan.matures_on,
                    loan.days_overdue, loan.classification, "active", BY, created,
                )
            )  # fmt: skip
            drawn = datetime.combine(loan.disbursed_on, datetime.min.time(), self.now.tzinfo)
            history = self.rows["loan_classification_change"]
            history.append((loan_id, None, "normal", "drawn", BY, drawn))
            if rank(loan.classification) > 0:
                history.append(
                    (loan_id, "normal", loan.classification,
                     f"{loan.days_overdue} days overdue: reclassified at the quarterly review",
                     "risk_zhao", min(self.now, drawn + timedelta(days=90)))
                )  # fmt: skip
        return facility_id

    def _guarantee(
        self, company: Company, customer_id: str, facility_id: str | None, created: datetime
    ) -> None:
        """Group parents guarantee their members' facilities; some owners guarantee their own."""
        if facility_id is None or company.facility_amount is None:
            return
        parent_key = company.group_key[1:] if company.group_key else None
        if parent_key and parent_key != company.key and self.random.random() < 0.5:
            guarantor: tuple[str | None, str | None] = (self._ref(parent_key), None)
        elif company.owners and self.random.random() < 0.3:
            guarantor = (None, self._ref(company.owners[0].key))
        else:
            return
        self.rows["guarantee"].append(
            (
                self._id(),
                customer_id,
                *guarantor,
                facility_id,
                company.facility_amount,
                "CNY",
                BY,
                created,
            )
        )
