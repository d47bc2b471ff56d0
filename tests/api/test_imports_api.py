"""Imports and the customer export over HTTP: upload, report, apply, job progress, limits,
scope, and export -> re-import as unchanged."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from api.v1 import imports as imports_view
from app.imports import batches, export
from tests.conftest import STAFF
from tests.factories import make_customer, make_uscc

HEADER = ["统一社会信用代码", "客户名称", "注册资本(万元)", "成立日期", "行业代码", "企业规模"]


def workbook(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(name: str, uscc: str | None = None) -> list[Any]:
    return [uscc or make_uscc(), name, 800.5, "2018-09-10", "C3612", "中型"]


def post(
    client: FlaskClient,
    data: bytes,
    who: str = "rm",
    kind: str = "customers",
    name: str = "客户导入.xlsx",
    **form: str,
) -> Any:
    return client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(data), name), "kind": kind, **form},
        headers=STAFF[who],
        content_type="multipart/form-data",
    )


def apply(client: FlaskClient, import_id: str, who: str = "rm", **body: Any) -> Any:
    return client.post(f"/api/v1/imports/{import_id}/apply", json=body, headers=STAFF[who])


def exported(client: FlaskClient, who: str, query: str = "") -> Any:
    return client.get(f"/api/v1/customers/export.xlsx{query}", headers=STAFF[who])


def test_dry_run_then_all_or_nothing_then_skip_bad_rows(client: FlaskClient) -> None:
    data = workbook(
        [
            row("新能源甲有限公司"),
            row("坏号码有限公司", "91310115000000000X"),
            row("新能源乙有限公司"),
        ]
    )
    checked = post(client, data)
    assert checked.status_code == 201, checked.get_json()
    body = checked.get_json()
    assert (body["status"], body["total_rows"]) == ("checked", 3)
    assert body["counts"] == {"ok": 2, "update": 0, "unchanged": 0, "error": 1}
    assert body["columns"]["注册资本(万元)"] == "registered_capital"
    assert [(r["row"], r["status"], sorted(r["problems"])) for r in body["rows"]] == [
        (3, "error", ["uscc"])
    ]
    everything = client.get(f"/api/v1/imports/{body['id']}?status=all", headers=STAFF["rm"])
    assert [r["status"] for r in everything.get_json()["rows"]] == ["ok", "error", "ok"]
    assert client.get("/api/v1/customers", headers=STAFF["rm"]).get_json()["total"] == 0

    refused = apply(client, body["id"])
    assert refused.status_code == 422, refused.get_json()
    problem = refused.get_json()
    assert problem["code"] == "import_has_bad_rows" and list(problem["errors"]) == ["row 3"]
    assert client.get("/api/v1/customers", headers=STAFF["rm"]).get_json()["total"] == 0
    failed = client.get(f"/api/v1/imports/{body['id']}", headers=STAFF["rm"]).get_json()
    assert failed["status"] == "failed"

    done = apply(client, body["id"], skip_bad_rows=True)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["rows_done"]) == ("applied", 3)
    listed = client.get("/api/v1/customers?sort=name", headers=STAFF["rm"]).get_json()
    assert [c["name"] for c in listed["items"]] == ["新能源乙有限公司", "新能源甲有限公司"]
    customer = listed["items"][0]
    assert (customer["registered_capital"], customer["size_class"]) == ("8005000.00", "medium")
    history = client.get(f"/api/v1/customers/{customer['id']}/history", headers=STAFF["rm"])
    assert [h["source"] for h in history.get_json()["items"]] == ["import"]
    again = apply(client, body["id"], skip_bad_rows=True)
    assert again.status_code == 409


def test_import_is_the_uploaders(client: FlaskClient) -> None:
    body = post(client, workbook([row("甲有限公司")])).get_json()
    assert client.get(f"/api/v1/imports/{body['id']}", headers=STAFF["rm_wu"]).status_code == 404
    assert client.get(f"/api/v1/imports/{body['id']}", headers=STAFF["admin"]).status_code == 200
    assert apply(client, body["id"], who="rm_wu").status_code == 404


def test_who_may_upload_and_how_much(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert post(client, workbook([row("甲有限公司")]), who="reviewer").status_code == 403
    bad_kind = post(client, workbook([row("甲有限公司")]), kind="loans")
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["errors"]
    old_excel = post(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", name="客户.xls")
    assert old_excel.status_code == 422 and ".xlsx" in old_excel.get_json()["errors"]["file"]
    monkeypatch.setattr(imports_view, "MAX_FILE_BYTES", 1000)
    too_big = post(client, workbook([row(f"客户{i}有限公司") for i in range(50)]))
    assert too_big.status_code == 413, too_big.get_json()
    assert "MiB" in too_big.get_json()["detail"] or "larger" in too_big.get_json()["detail"]


def test_missing_required_column_rejects_the_file(client: FlaskClient) -> None:
    response = post(client, workbook([["甲有限公司"]], header=["客户名称"]))
    assert response.status_code == 422
    assert "统一社会信用代码" in response.get_json()["errors"]["uscc"]


def test_large_file_is_applied_by_the_job_with_progress(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "INLINE_MAX_ROWS", 30)
    monkeypatch.setattr(batches, "CHUNK_ROWS", 10)
    rows = [row(f"批量客户{i:03d}有限公司") for i in range(45)]
    body = post(client, workbook(rows)).get_json()
    assert (body["status"], body["rows_done"]) == ("checked", 0)
    queued = apply(client, body["id"])
    assert queued.status_code == 202, queued.get_json()
    # Eager job mode: the job ran after the view committed.
    after = client.get(f"/api/v1/imports/{body['id']}", headers=STAFF["rm"]).get_json()
    assert (after["status"], after["rows_done"], after["total_rows"]) == ("applied", 45, 45)
    assert after["finished_at"] is not None
    assert client.get("/api/v1/customers", headers=STAFF["rm"]).get_json()["total"] == 45


def test_export_is_scoped_and_reimports_unchanged(client: FlaskClient) -> None:
    field = client.post(
        "/api/v1/custom-fields",
        json={"key": "listed", "label": "是否上市", "type": "boolean"},
        headers=STAFF["admin"],
    )
    assert field.status_code == 201, field.get_json()
    mine = make_customer(
        client,
        "浦东出口甲有限公司",
        registered_capital="12345678.90",
        establishment_date="2011-05-06",
        industry_code="I6510",
        size_class="small",
        risk_rating="A",
        custom={"listed": True},
    )
    make_customer(client, "浦东出口乙有限公司")
    make_customer(client, "北京他人有限公司", who="rm_ma")
    response = exported(client, "rm")
    assert response.status_code == 200, response.get_data()[:300]
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.headers["X-Total-Count"] == "2"
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("统一社会信用代码", "客户名称", "法定代表人", "注册资本(万元)")
    assert values[0][-1] == "是否上市"
    # Sorted by name (乙 before 甲 in code point order); trailing empty cells are left out.
    first = dict(zip(values[0], values[2], strict=False))
    assert first["客户名称"] == "浦东出口甲有限公司" and first["统一社会信用代码"] == mine["uscc"]
    assert first["注册资本(万元)"] == 1234.56789 and first["企业规模"] == "小型"
    assert first["客户状态"] == "潜客" and first["是否上市"] == "是"
    assert len(values) == 3

    reimport = post(client, response.get_data(), name="导出.xlsx")
    assert reimport.status_code == 201, reimport.get_json()
    assert reimport.get_json()["counts"] == {"ok": 0, "update": 0, "unchanged": 2, "error": 0}
    assert reimport.get_json()["unknown_columns"] == []

    filtered = exported(client, "rm", "?name=乙")
    assert filtered.headers["X-Total-Count"] == "1"
    assert exported(client, "admin").headers["X-Total-Count"] == "3"


def test_export_row_cap(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    make_customer(client, "甲有限公司")
    make_customer(client, "乙有限公司")
    monkeypatch.setattr(export, "MAX_ROWS", 1)
    response = exported(client, "rm")
    assert response.status_code == 422
    assert "narrow" in response.get_json()["errors"]["filters"]


def test_gb18030_csv_upload(client: FlaskClient) -> None:
    text = "统一社会信用代码,客户名称,客户状态\n" + f"{make_uscc()},深圳南山某科技有限公司,准入中\n"
    response = post(client, text.encode("gb18030"), name="客户.csv", dry_run="false")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "applied"
    listed = client.get("/api/v1/customers", headers=STAFF["rm"]).get_json()["items"]
    assert [(c["name"], c["status"]) for c in listed] == [("深圳南山某科技有限公司", "onboarding")]
