"""The synthetic bank: valid identifiers, deterministic, groups with chains and diamonds."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from app.customers import uscc
from app.customers.synthetic import SyntheticBank
from app.people.identifiers import id_problem, resident_check_char


def test_synthetic_companies_have_valid_usccs_matching_their_region() -> None:
    companies = list(SyntheticBank(seed=7).companies(500))
    assert len(companies) == 500
    assert len({c.uscc for c in companies}) == 500
    for company in companies:
        assert uscc.problems(company.uscc) == []
        assert uscc.org_code_warning(company.uscc) is None
        assert company.uscc[2:8] == company.region_code
        assert company.name.endswith("有限公司")


def test_synthetic_people_have_valid_resident_id_numbers() -> None:
    bank = SyntheticBank(seed=3)
    for _ in range(200):
        person = bank.person()
        assert len(person.id_number) == 18
        assert id_problem("resident_id", person.id_number) is None
        assert len(person.mobile) == 11 and person.mobile.startswith("1")
    # GB 11643's published example: 11010519491231002X.
    assert resident_check_char("11010519491231002") == "X"


def test_synthetic_bank_is_deterministic_for_a_seed() -> None:
    first = [(c.uscc, c.name) for c in SyntheticBank(seed=11).companies(50)]
    again = [(c.uscc, c.name) for c in SyntheticBank(seed=11).companies(50)]
    other = [(c.uscc, c.name) for c in SyntheticBank(seed=12).companies(50)]
    assert first == again
    assert first != other


def test_synthetic_groups_hold_shares_that_add_up_and_point_inside_the_group() -> None:
    companies = list(SyntheticBank(seed=5).companies(3000))
    by_key = {c.key: c for c in companies}
    grouped = [c for c in companies if c.group_key]
    assert grouped, "some companies belong to groups"
    diamonds = 0
    for company in companies:
        total = sum((pct for _holder, pct in company.shareholders), Decimal(0))
        assert total <= 100
        owners = {p.key for p in company.owners}
        for holder, _pct in company.shareholders:
            if holder.startswith("P"):
                assert holder in owners
            else:
                assert by_key[holder].group_key == company.group_key
        diamonds += len([h for h, _ in company.shareholders if h.startswith("C")]) > 1
    assert diamonds > 0
    classes = Counter(loan.classification for c in companies for loan in c.loans)
    assert classes["normal"] / sum(classes.values()) > 0.9
    assert set(classes) - {"normal"}, "the book has some non-normal loans"
