"""Spreadsheet imports at the use-case level: reading files, the dry run's row reports,
all-or-nothing and skip-bad-rows applies, replays, relationships, the job's progress."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.customers import customers
from app.customers.models import Customer, CustomerChange
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor, OrgScope
from app.imports import batches, headers
from app.imports.models import ImportBatch, ImportRow
from app.relations.models import GroupMember, Guarantee, Ownership
from tests.factories import make_uscc

RM = Actor("rm_li", frozenset({"relationship_manager"}))
RM_MA = Actor("rm_ma", frozenset({"relationship_manager"}))
ADMIN = Actor("admin", frozenset({"admin"}), OrgScope(everything=True))
HEADER = [
    "统一社会信用代码",
    "企业名称",
    "注册资本(万元)",
    "成立日期",
    "国标行业",
    "企业规模",
    "客户状态",
]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER, title: str = "Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str, header: list[str] = HEADER) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def good(name: str, uscc: str | None = None) -> list[Any]:
    return [uscc or make_uscc(), name, 1000, "2015-03-02", "I6510", "小", "潜客"]


def upload(session: Session, data: bytes, actor: Actor = RM, **options: Any) -> ImportBatch:
    name = options.pop("file_name", "客户.xlsx")
    kind = options.pop("kind", "customers")
    outcome = batches.upload(session, actor, kind=kind, file_name=name, data=data, **options)
    session.commit()
    return outcome.batch


def report(session: Session, batch: ImportBatch) -> dict[int, tuple[str, dict[str, str]]]:
    rows = session.scalars(
        select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_no)
    )
    return {r.row_no: (r.status, r.problems) for r in rows}


def customer_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_headers_chinese_english_custom_and_unknown() -> None:
    columns, unknown = headers.map_columns(
        "customers",
        ["*统一社会信用代码", "name", "注册资本（万元）", "内部评级", "备注", "客户经理"],
        {},
    )
    assert [c.field if c else None for c in columns] == [
        "uscc",
        "name",
        "registered_capital",
        "risk_rating",
        None,
        "rm_id",
    ]
    assert columns[2] is not None and columns[2].scale == headers.WAN
    assert unknown == ["备注"]


def test_missing_required_header_rejects_the_file(session: Session) -> None:
    data = xlsx([["上海某公司", "I6510"]], header=["客户名称", "行业代码"])
    with pytest.raises(InvalidInputError) as caught:
        upload(session, data)
    assert "uscc" in caught.value.errors
    assert "统一社会信用代码" in caught.value.errors["uscc"]
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_two_columns_for_one_field_reject_the_file(session: Session) -> None:
    data = xlsx([], header=["统一社会信用代码", "客户名称", "企业名称"])
    with pytest.raises(InvalidInputError) as caught:
        upload(session, data)
    assert "企业名称" in caught.value.errors


def test_dry_run_reports_every_kind_of_problem(session: Session) -> None:
    stored = customers.create(session, RM, {"uscc": make_uscc(), "name": "已存客户有限公司"})
    elsewhere = customers.create(session, RM_MA, {"uscc": make_uscc(), "name": "北京机密有限公司"})
    session.commit()
    before = customer_count(session)
    twice = make_uscc()
    bad_check = make_uscc()
    bad_check = bad_check[:17] + ("0" if bad_check[17] != "0" else "1")
    data = xlsx(
        [
            good("好客户有限公司"),
            good("校验位错误有限公司", bad_check),
            [make_uscc(), "行业错误有限公司", 1000, "2015-03-02", "C0110", "小", "潜客"],
            good("重复一有限公司", twice),
            good("重复二有限公司", twice),
            good("改名有限公司", stored.customer.uscc),
            good("北京机密有限公司", elsewhere.customer.uscc),
            [make_uscc(), "规模错误有限公司", "很多", "2015-03-02", "I6510", "巨型", "潜客"],
        ],
        header=[*HEADER, "备注"],
    )
    batch = upload(session, data)
    assert batch.status == "checked" and batch.unknown_columns == ["备注"]
    rows = report(session, batch)
    assert rows[2] == ("ok", {})
    assert rows[3][0] == "error" and "check character" in rows[3][1]["uscc"]
    assert "division 01 belongs to section A" in rows[4][1]["industry_code"]
    assert rows[5][0] == "ok"
    assert rows[6][1] == {"uscc": f"{twice} is also in row 5 of this file"}
    assert "stored as 已存客户有限公司" in rows[7][1]["name"]
    hidden = rows[8][1]
    assert hidden == {"uscc": f"{elsewhere.customer.uscc} belongs to a customer outside your scope"}
    assert set(rows[9][1]) == {"registered_capital", "size_class"}
    assert "大型" in rows[9][1]["size_class"]
    assert batch.counts == {"ok": 2, "update": 0, "unchanged": 0, "error": 6}
    assert customer_count(session) == before


def test_gb18030_and_bom_csv_are_read(session: Session) -> None:
    for encoding in ("gb18030", "utf-8-sig"):
        data = csv_bytes([good("广州某某制造有限公司")], encoding)
        batch = upload(session, data, file_name="客户.csv")
        assert batch.options["encoding"] == encoding
        assert report(session, batch)[2] == ("ok", {})
        row = session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id)).one()
        assert row.data["name"] == "广州某某制造有限公司"
        assert row.data["registered_capital"] == "10000000"
        assert row.data["size_class"] == "small" and row.data["status"] == "prospect"


def test_apply_is_all_or_nothing(session: Session) -> None:
    data = xlsx([good("甲有限公司"), good("乙有限公司", "91310115BADUSCC000")])
    batch = upload(session, data)
    outcome = batches.apply(session, RM, batch.id, skip_bad_rows=False)
    session.commit()
    assert outcome.batch.status == "failed"
    assert "1 of 2 rows have problems; nothing was written" in (outcome.batch.message or "")
    assert customer_count(session) == 0
    error = batches.failure(session, outcome.batch)
    assert list(error.errors) == ["row 3"] and "uscc" in error.errors["row 3"]


def test_skip_bad_rows_writes_the_good_ones_with_import_changes(session: Session) -> None:
    data = xlsx([good("甲有限公司"), good("乙有限公司", "91310115BADUSCC000"), good("丙有限公司")])
    batch = upload(session, data, dry_run=False, skip_bad_rows=True)
    assert batch.status == "applied" and batch.rows_done == 3
    assert batch.counts == {"ok": 2, "update": 0, "unchanged": 0, "error": 1}
    made = session.scalars(select(Customer).order_by(Customer.name)).all()
    assert [c.name for c in made] == ["丙有限公司", "甲有限公司"]
    assert made[0].registered_capital == 10_000_000 and made[0].rm_id == "rm_li"
    assert (made[0].team_id, made[0].branch_id) == ("SH-PD-T1", "SH-PD")
    sources = session.scalars(select(CustomerChange.source).distinct()).all()
    assert sources == ["import"]


def test_replay_reports_unchanged_and_changes_report_update(session: Session) -> None:
    rows = [good("甲（集团）有限公司"), good("乙有限公司")]
    upload(session, xlsx(rows), dry_run=False)
    rows[0][1] = "甲 (集团) 有限公司"  # the same name typed with half-width brackets
    replay = upload(session, xlsx(rows), dry_run=False)
    assert replay.counts == {"ok": 0, "update": 0, "unchanged": 2, "error": 0}
    changes_before = session.scalar(select(func.count()).select_from(CustomerChange))
    rows[1][2] = 2500  # registered capital, 万元
    rows[1][6] = "准入中"
    changed = upload(session, xlsx(rows), dry_run=False)
    assert changed.counts == {"ok": 0, "update": 1, "unchanged": 1, "error": 0}
    assert report(session, changed)[3][0] == "update"
    row = session.scalars(
        select(ImportRow).where(ImportRow.batch_id == changed.id, ImportRow.row_no == 3)
    ).one()
    assert sorted(row.changed) == ["registered_capital", "status"]
    stored = session.scalars(select(Customer).where(Customer.name == "乙有限公司")).one()
    session.refresh(stored)
    assert (stored.registered_capital, stored.status, stored.version) == (
        25_000_000,
        "onboarding",
        2,
    )
    assert session.scalar(select(func.count()).select_from(CustomerChange)) == changes_before + 2


def test_only_importers_may_import(session: Session) -> None:
    reviewer = Actor("reviewer_wang", frozenset({"credit_reviewer"}))
    with pytest.raises(PermissionDeniedError):
        upload(session, xlsx([good("甲有限公司")]), actor=reviewer)
    lead = Actor("lead_zhang", frozenset({"relationship_manager_lead"}))
    with pytest.raises(PermissionDeniedError):
        upload(
            session,
            xlsx([], header=["关系类型", "持股方", "被持股企业"]),
            lead,
            kind="relationships",
        )


def test_rm_may_not_give_customers_to_other_rms(session: Session) -> None:
    data = xlsx(
        [[make_uscc(), "甲有限公司", "rm_wu"]], header=["统一社会信用代码", "客户名称", "客户经理"]
    )
    assert "rm_id" in report(session, upload(session, data))[2][1]
    lead = Actor(
        "lead_zhang",
        frozenset({"relationship_manager_lead"}),
        OrgScope(unit_ids=frozenset({"SH-PD-T1"})),
    )
    assert report(session, upload(session, data, actor=lead))[2] == ("ok", {})


def test_job_commits_progress_while_the_apply_stays_invisible(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "CHUNK_ROWS", 20)
    batch = upload(session, xlsx([good(f"进度客户{i:03d}有限公司") for i in range(70)]))
    session.execute(
        ImportBatch.__table__.update()
        .where(ImportBatch.id == batch.id)
        .values(status="applying", options={"skip_bad_rows": False})
    )
    session.commit()
    seen: list[tuple[int, int]] = []

    def watch(done: int) -> None:
        with sessions() as outside:
            rows_done = outside.get(ImportBatch, batch.id).rows_done  # type: ignore[union-attr]
            seen.append((rows_done, customer_count(outside)))

    batches.run_queued(sessions, batch.id, observer=watch)
    if session.get_bind().dialect.name == "postgresql":
        assert seen == [(20, 0), (40, 0), (60, 0), (70, 0)]
    session.expire_all()
    done = session.get(ImportBatch, batch.id)
    assert done is not None and (done.status, done.rows_done) == ("applied", 70)
    assert customer_count(session) == 70
    session.commit()  # SQLite: let go of the write lock BEGIN IMMEDIATE took
    batches.run_queued(sessions, batch.id)  # a second delivery does nothing
    assert customer_count(session) == 70


def _relations(rows: list[list[Any]]) -> bytes:
    header = ["关系类型", "持股方", "被持股企业", "持股比例(%)", "担保金额", "集团名称"]
    return xlsx(rows, header=header, title="关系")


def test_relationships_import_replay_and_limits(session: Session) -> None:
    made = [
        customers.create(session, RM, {"uscc": make_uscc(), "name": f"关系客户{i}有限公司"})
        for i in range(3)
    ]
    session.commit()
    a, b, c = (m.customer.uscc for m in made)
    rows = [
        ["持股", a, b, 60, None, None],
        ["控股", c, b, "30%", None, None],
        ["担保", a, c, None, 500, None],
        ["集团成员", a, b, None, None, "甲集团"],
        ["实际控制", a, b, None, None, None],
    ]
    dry = upload(session, _relations(rows), kind="relationships")
    assert dry.counts == {"ok": 5, "update": 0, "unchanged": 0, "error": 0}, report(session, dry)
    assert session.scalar(select(func.count()).select_from(Ownership)) == 0
    applied = upload(session, _relations(rows), kind="relationships", dry_run=False)
    assert applied.status == "applied"
    assert session.scalar(select(func.count()).select_from(Ownership)) == 3
    guarantee = session.scalars(select(Guarantee)).one()
    assert guarantee.amount == 5_000_000 and guarantee.borrower_id == made[2].customer.id
    assert session.get(GroupMember, made[1].customer.id) is not None
    replay = upload(session, _relations(rows), kind="relationships")
    assert replay.counts == {"ok": 0, "update": 0, "unchanged": 5, "error": 0}
    over = upload(
        session,
        _relations([["持股", c, a, 70, None, None], ["持股", b, a, 40, None, None]]),
        kind="relationships",
    )
    problems = report(session, over)
    assert problems[2] == ("ok", {})
    assert "pass 100 %" in problems[3][1]["percentage"]
    again = upload(session, _relations([["持股", a, b, 50, None, None]]), kind="relationships")
    assert report(session, again)[2] == ("error", {"percentage": "recorded as 60 %"})


def test_person_shareholder_by_id_number_is_never_stored_in_clear(session: Session) -> None:
    from app.people import people

    held = customers.create(session, RM, {"uscc": make_uscc(), "name": "自然人持股有限公司"})
    person = people.register(
        session, RM, {"name": "张示例", "id_type": "resident_id", "id_number": "11010519491231002X"}
    )
    session.commit()
    data = _relations(
        [
            ["持股", "11010519491231002x", held.customer.uscc, 35, None, None],
            ["持股", "110105194912310029", held.customer.uscc, 5, None, None],
        ]
    )
    batch = upload(session, data, kind="relationships", dry_run=False, skip_bad_rows=True)
    rows = report(session, batch)
    assert rows[2] == ("ok", {})
    assert rows[3][0] == "error" and "check character" in rows[3][1]["holder"]
    edge = session.scalars(select(Ownership)).one()
    assert (edge.holder_person_id, edge.percentage) == (person.id, 35)
    stored = session.scalars(select(ImportRow.data).where(ImportRow.batch_id == batch.id)).all()
    assert all("11010519491231002" not in str(d) for d in stored)


def test_an_apply_whose_worker_died_may_be_applied_again(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """A killed worker leaves its batch "applying" (its transaction, and every row it wrote,
    rolled back); once nothing has been heard of it for STALLED_AFTER it can be applied."""
    batch = upload(session, xlsx([good("复活客户有限公司")]))
    now = utcnow()

    def left_applying(at: datetime) -> None:
        session.execute(
            ImportBatch.__table__.update()
            .where(ImportBatch.id == batch.id)
            .values(status="applying", started_at=at, updated_at=at)
        )
        session.commit()

    left_applying(now - timedelta(minutes=2))
    with pytest.raises(ConflictError, match="applying"):
        batches.apply(session, RM, batch.id, skip_bad_rows=False)
    session.rollback()
    left_applying(now - batches.STALLED_AFTER - timedelta(seconds=5))
    stuck = session.get(ImportBatch, batch.id, populate_existing=True)
    assert stuck is not None and batches.stalled(stuck)
    if session.get_bind().dialect.name == "postgresql":
        # Quiet for long, but a transaction still applies it (a slow check): not taken over.
        with sessions() as live:
            live.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"import:{batch.id}"}
            )
            with pytest.raises(ConflictError, match="applying"):
                batches.apply(session, RM, batch.id, skip_bad_rows=False)
            session.rollback()
    outcome = batches.apply(session, RM, batch.id, skip_bad_rows=False)
    session.commit()
    assert (outcome.batch.status, outcome.batch.rows_done) == ("applied", 1)
    assert customer_count(session) == 1
