"""Realistic synthetic corporate customers for demos and benchmarks (pure data, no database).

Everything is drawn from one seeded `random.Random`, so the same seed gives the same bank:
valid USCCs (both check characters) whose region matches the registered region, Chinese company
and person names, log-normal registered capital, groups with shareholding chains and diamonds,
natural-person shareholders with valid resident ID numbers, and loans with a five-category mix
close to a Chinese bank's book (about 96 % normal). See banking-domain reference §9.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from app.customers.uscc import CHARSET, check_char, org_check_char
from app.people.identifiers import resident_check_char

REGIONS = {
    "110105": "北京朝阳",
    "110108": "北京海淀",
    "310104": "上海徐汇",
    "310115": "上海浦东",
    "440305": "深圳南山",
    "440106": "广州天河",
    "330106": "杭州西湖",
    "320505": "苏州虎丘",
    "320106": "南京鼓楼",
    "510107": "成都武侯",
    "420106": "武汉武昌",
    "370102": "济南历下",
    "350102": "福州鼓楼",
    "430104": "长沙岳麓",
    "610113": "西安雁塔",
    "500103": "重庆渝中",
}
INDUSTRIES = {
    "I6510": "科技",
    "C3612": "新能源汽车",
    "C3911": "电子",
    "K7010": "置业",
    "E4710": "建设",
    "D4411": "能源",
    "L7212": "投资",
    "F5211": "商贸",
    "C2614": "化工",
    "G5431": "物流",
}
_REGION_CODES = tuple(REGIONS)
_INDUSTRY_CODES = tuple(INDUSTRIES)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌海波鹏飞宇浩然晨"
_BRAND = (
    "华信恒达鑫源泰和嘉瑞盛通博远金辉宏宇中联天成永安新元德润启明长城东方"
    "海纳百川汇丰隆裕晟昌景弘锦程腾飞卓越创维正大万科利群富康瑞祥同舟"
)
_SIZES = (("large", 0.03), ("medium", 0.12), ("small", 0.45), ("micro", 0.40))
# 潜客 / 准入中 / 存量 / 休眠 / 退出: most of a bank's book is active customers.
_STATUSES = (
    ("active", 0.72),
    ("prospect", 0.12),
    ("onboarding", 0.04),
    ("dormant", 0.09),
    ("exited", 0.03),
)
_RATINGS = (
    ("AAA", 0.03),
    ("AA", 0.12),
    ("A", 0.25),
    ("BBB", 0.30),
    ("BB", 0.15),
    ("B", 0.09),
    ("CCC", 0.03),
    ("CC", 0.015),
    ("C", 0.01),
    ("D", 0.005),
)
# Anti-money-laundering risk level (低/中/高), a typical custom field.
_AML = (("low", 0.85), ("medium", 0.12), ("high", 0.03))
# 正常 / 关注 / 次级 / 可疑 / 损失, in the proportions of a typical book.
_CLASSES = (
    ("normal", 0.962),
    ("special_mention", 0.02),
    ("substandard", 0.009),
    ("doubtful", 0.006),
    ("loss", 0.003),
)
_ORG_BODY = [c for c in CHARSET if c not in "IOSVZ"]


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    """One value of (value, probability) pairs whose probabilities add up to 1."""
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[0][0]


@dataclass
class Person:
    key: str
    name: str
    id_number: str
    mobile: str


@dataclass
class Loan:
    key: str
    amount: Decimal
    balance: Decimal
    disbursed_on: date
    matures_on: date
    classification: str
    days_overdue: int


@dataclass
class Company:
    key: str
    uscc: str
    name: str
    region_code: str
    industry_code: str
    size_class: str
    registered_capital: Decimal  # 万元
    established_on: date
    legal_representative: Person
    facility_amount: Decimal | None = None
    loans: list[Loan] = field(default_factory=list)
    # (holder key, percentage): holders are companies ("C…") or persons ("P…") in `owners`.
    shareholders: list[tuple[str, Decimal]] = field(default_factory=list)
    owners: list[Person] = field(default_factory=list)
    group_key: str | None = None
    status: str = "active"
    risk_rating: str | None = None
    aml_level: str = "low"


class SyntheticBank:
    """A stream of companies in groups, deterministic for a seed."""

    def __init__(self, seed: int = 20261129) -> None:
        self.random = random.Random(seed)
        self._serial = 0
        self._used_uscc: set[str] = set()

    def companies(self, count: int) -> Iterator[Company]:
        """`count` companies; about a third belong to groups of 3-8 with chains and diamonds."""
        made = 0
        while made < count:
            size = min(count - made, self._group_size())
            yield from self._group(size)
            made += size

    def _group_size(self) -> int:
        return 1 if self.random.random() < 0.9 else self.random.randint(3, 8)

    def _group(self, size: int) -> list[Company]:
        members = [self.company() for _ in range(size)]
        owners = [self.person() for _ in range(self.random.randint(1, 2 if size == 1 else 3))]
        parent = members[0]
        parent.owners = owners
        parent.shareholders = self._split([p.key for p in owners])
        if size == 1:
            return members
        group_key = f"G{parent.key}"
        for index, member in enumerate(members):
            member.group_key = group_key
            if index == 0:
                continue
            holder = members[self.random.randrange(index)]  # a chain back towards the parent
            pct = Decimal(self.random.choice((51, 60, 70, 80, 100)))
            member.shareholders = [(holder.key, pct)]
            if pct < 100 and index >= 2 and self.random.random() < 0.5:
                other = members[self.random.randrange(index)]  # a diamond: two routes up
                if other.key != holder.key:
                    member.shareholders.append((other.key, Decimal(100) - pct))
        return members

    def _split(self, holders: list[str]) -> list[tuple[str, Decimal]]:
        cuts = sorted(self.random.randint(5, 95) for _ in range(len(holders) - 1))
        edges = [0, *cuts, 100]
        return [(h, Decimal(edges[i + 1] - edges[i])) for i, h in enumerate(holders)]

    def company(self) -> Company:
        self._serial += 1
        region = self.random.choice(_REGION_CODES)
        industry = self.random.choice(_INDUSTRY_CODES)
        capital = Decimal(round(min(math.exp(self.random.gauss(math.log(1000), 1.4)), 1e6), 2))
        established = date(1990, 1, 1) + timedelta(
            days=int(12_800 * self.random.random() ** 0.6)  # skewed towards recent years
        )
        company = Company(
            key=f"C{self._serial:08d}",
            uscc=self.uscc(region),
            name=self.company_name(region, industry),
            region_code=region,
            industry_code=industry,
            size_class=self._pick(_SIZES),
            registered_capital=capital,
            established_on=established,
            legal_representative=self.person(),
            status=self._pick(_STATUSES),
            aml_level=self._pick(_AML),
        )
        # Prospects have no internal rating yet.
        if company.status != "prospect":
            company.risk_rating = self._pick(_RATINGS)
        if self.random.random() < 0.55 and company.status in ("active", "dormant"):
            self._lend(company)
        return company

    def _lend(self, company: Company) -> None:
        amount = Decimal(int(min(math.exp(self.random.gauss(math.log(2000), 1.1)), 500_000)))
        company.facility_amount = amount * 10_000  # 万元 → CNY
        for n in range(self.random.randint(1, 3)):
            drawn = (amount * Decimal(self.random.uniform(0.1, 0.5))).quantize(Decimal("1"))
            disbursed = date(2025, 1, 1) + timedelta(days=self.random.randrange(600))
            classification = self._pick(_CLASSES)
            overdue = {"normal": 0, "special_mention": 45, "substandard": 120}.get(
                classification, 200
            )
            company.loans.append(
                Loan(
                    key=f"{company.key}-L{n + 1}",
                    amount=drawn * 10_000,
                    balance=(drawn * Decimal(self.random.uniform(0.3, 1.0))).quantize(Decimal("1"))
                    * 10_000,
                    disbursed_on=disbursed,
                    matures_on=disbursed + timedelta(days=self.random.choice((180, 365, 1095))),
                    classification=classification,
                    days_overdue=self.random.randint(overdue // 2, overdue) if overdue else 0,
                )
            )

    def uscc(self, region: str) -> str:
        """A USCC for a company (9 1 + region + GB 11714 organisation code), both checks valid."""
        while True:
            body = "".join(self.random.choices(_ORG_BODY, k=8))
            org_check = org_check_char(body)
            if org_check == "X":
                continue  # X is outside the USCC character set: draw again
            first17 = f"91{region}{body}{org_check}"
            code = first17 + check_char(first17)
            if code not in self._used_uscc:
                self._used_uscc.add(code)
                return code

    def company_name(self, region: str, industry: str) -> str:
        city = REGIONS[region][:2]
        brand = "".join(self.random.sample(_BRAND, 2))
        kind = "股份有限公司" if self.random.random() < 0.15 else "有限公司"
        return f"{city}{brand}{INDUSTRIES[industry]}{kind}"

    def person(self) -> Person:
        self._serial += 1
        name = self.random.choice(_SURNAMES) + "".join(
            self.random.choice(_GIVEN) for _ in range(self.random.randint(1, 2))
        )
        born = date(1955, 1, 1) + timedelta(days=self.random.randrange(365 * 45))
        first17 = (
            f"{self.random.choice(_REGION_CODES)}{born:%Y%m%d}{self.random.randrange(1000):03d}"
        )
        return Person(
            key=f"P{self._serial:08d}",
            name=name,
            id_number=first17 + resident_check_char(first17),
            mobile=f"1{self.random.choice('3456789')}{self.random.randrange(10**9):09d}",
        )

    def _pick(self, weighted: tuple[tuple[str, float], ...]) -> str:
        return pick(self.random, weighted)
