"""Seeded servicing rows: interactions, complaints and risk signals with plausible texts.

Each function returns row tuples without their id (app.customers.seed_rows adds it), in the
column order of app.customers.seed_rows.COLUMNS; deadlines follow the servicing rules
(complaints 15/30 calendar days, signals 3/10 working days, blue signals none).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from app.customers.synthetic import pick
from app.servicing.complaints import SLA_DAYS
from app.servicing.signals import VERIFY_WORKDAYS

_INTERACTIONS = (
    ("visit", "marketing", "上门拜访{who}，介绍供应链融资和票据池产品，客户有意向，约定下周报价。"),
    ("visit", "post_loan", "贷后实地检查：生产经营正常，库存与报表相符，按期付息。"),
    ("call", "post_loan", "电话回访{who}：本季度订单稳定，回款周期约60天。"),
    ("branch", "annual_review", "年审：已收集上年度审计报告与纳税证明，评级维持。"),
    ("video", "marketing", "视频会议：客户拟扩建产线，询问固定资产贷款条件。"),
    ("call", "collection", "催收：{who}承诺月底前归还逾期利息。"),
    ("note", "other", "补充开户资料：营业执照副本与公司章程已更新。"),
)
_COMPLAINTS = (
    ("phone", "fees", "客户反映对公账户管理费收取标准不清晰。"),
    ("branch", "service", "客户反映柜台办理对公业务等候时间过长。"),
    ("online", "product", "企业网银转账限额调整后未及时生效。"),
    ("letter", "credit", "客户对贷款续授信审批进度有异议。"),
    ("online", "data_privacy", "客户询问其法定代表人信息的使用范围。"),
)
# (source, category, severity weight table key, headline template)
_SIGNALS = (
    ("court", "lawsuit", "{name}涉及买卖合同纠纷诉讼，标的额约320万元"),
    ("court", "enforcement", "{name}被列为被执行人，执行标的150万元"),
    ("registry", "abnormal_operation", "{name}被列入经营异常名录（未按时公示年报）"),
    ("registry", "equity_pledged", "{name}控股股东股权出质登记"),
    ("news", "negative_news", "媒体报道{name}拖欠供应商货款"),
    ("registry", "executive_change", "{name}法定代表人变更"),
    ("tax", "tax_violation", "{name}存在欠税公告"),
    ("internal", "overdue", "{name}贷款逾期超过30天"),
)
_SEVERITIES = (("blue", 0.4), ("yellow", 0.35), ("orange", 0.18), ("red", 0.07))


def interaction_rows(
    rng: random.Random, customer_id: str, who: str, rm_id: str, now: datetime
) -> list[tuple[Any, ...]]:
    """0-2 interactions in the last year (0.7 on average), recorded by the customer's RM."""
    count = 0 if rng.random() < 0.5 else (1 if rng.random() < 0.6 else 2)
    rows = []
    for _ in range(count):
        kind, purpose, text = rng.choice(_INTERACTIONS)
        at = now - timedelta(days=rng.uniform(0, 365))
        follow = rng.random() < 0.3
        rows.append(
            (
                customer_id, kind, purpose, at, text.format(who=who), f"{who}; {rm_id}",
                "发送报价并跟进" if follow else None,
                (at + timedelta(days=14)).date() if follow else None, rm_id, at,
            )
        )  # fmt: skip
    return rows


def complaint_rows(
    rng: random.Random, customer_id: str, who: str, rm_id: str, now: datetime
) -> list[tuple[Any, ...]]:
    """A complaint for about 3 % of customers; those older than their deadline are resolved."""
    if rng.random() >= 0.03:
        return []
    channel, category, text = rng.choice(_COMPLAINTS)
    complexity = "complex" if rng.random() < 0.2 else "simple"
    received = now - timedelta(days=rng.uniform(0, 120))
    due = received + timedelta(days=SLA_DAYS[complexity])
    resolved = due < now or rng.random() < 0.3
    resolved_at = min(now, received + timedelta(days=rng.uniform(1, SLA_DAYS[complexity])))
    return [
        (
            customer_id, channel, category, complexity, text, who, received, due, None, None,
            "resolved" if resolved else "open",
            "已向客户解释并致歉，问题已处理。" if resolved else None,
            "流程告知不充分" if resolved else None,
            rm_id if resolved else None, resolved_at if resolved else None, rm_id, received,
        )
    ]  # fmt: skip


def signal_rows(
    rng: random.Random, name: str, customer_id: str, now: datetime, workdays: Any
) -> list[tuple[Any, ...]]:
    """An early-warning signal for about 8 % of customers; older ones are already handled."""
    if rng.random() >= 0.08:
        return []
    source, category, headline = rng.choice(_SIGNALS)
    severity = pick(rng, _SEVERITIES)
    detected = now - timedelta(days=rng.uniform(0, 180))
    due, estimated = None, False
    if severity in VERIFY_WORKDAYS:
        result = workdays.add_workdays(detected, VERIFY_WORKDAYS[severity])
        due, estimated = result.due, result.estimated
    age = (now - detected).days
    if severity == "blue":
        status = "new"
    elif age < 10:
        status = rng.choice(("new", "verifying"))
    else:
        status = rng.choice(("dismissed", "lifted", "handling", "confirmed"))
    closed = status in ("dismissed", "lifted")
    return [
        (
            customer_id, source, category, severity, headline.format(name=name), None, None,
            detected, due, estimated, status,
            "核实后已排除或风险已缓释" if closed else None, "risk_zhao",
            "risk_zhao" if status != "new" else None,
            detected + timedelta(days=min(age, 5)) if status != "new" else None, detected,
        )
    ]  # fmt: skip
