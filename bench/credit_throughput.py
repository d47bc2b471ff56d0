"""Throughput benchmark: complete credit applications per second through corpflow's HTTP API.

What one run does (all against 127.0.0.1 only):

1. Baseline: the same credit BPMN run by SpiffWorkflow in memory (no HTTP, no database).
2. Drops and recreates the PostgreSQL database ``corpflow_bench``, runs ``alembic upgrade head``
   and ``flask seed-demo``, starts corpflow under gunicorn and waits for ``/health/ready``.
3. Runs N credit applications end to end (start, review, risk, approval, background service
   task) with C client threads and reports applications/s, requests/s and latencies.
4. Measures start + claim + complete of a one-user-task process, sequentially.
5. Stops the server (always), prints every figure, optionally writes them as JSON.

Usage: ``.venv/bin/python bench/credit_throughput.py [--quick] [--json PATH] ...``
(``make bench``). See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "corpflow_bench"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
API = "/api/v1"

# Targets printed next to the figures.
TARGET_APPS_PER_S = 100.0
TARGET_ONE_TASK_P50_MS = 15.0
SPIFF_ARENA_ONE_TASK_MS = 250.0  # reference: spiff-arena's backend on this machine class

STAFF: dict[str, str] = {
    "rm_li": "rm-pass",
    "reviewer_wang": "reviewer-pass",
    "risk_zhao": "risk-pass",
    "branch_chen": "branch-pass",
    "designer_zhou": "designer-pass",
    "admin": "admin-pass",
}
# A user the benchmark creates (through the admin users API) for the one-user-task process,
# whose task is offered to candidate group `staff`, which no demo user belongs to.
BENCH_USER = "bench_staff"
BENCH_PASSWORD = "bench-staff-pass"
ONE_TASK_BPMN = ROOT / "tests" / "bpmn" / "one_user_task.bpmn"
CREDIT_BPMN = ROOT / "bpmn" / "credit_application.bpmn"

START_VARIABLES: dict[str, Any] = {
    "amount": 5000000,
    "currency": "CNY",
    "term_months": 12,
    "product": "working_capital",
    "guarantee_type": "mortgage",
    "purpose": "bench",
}
# (actor, element id, form values) for each user task after the start, in order. 5,000,000 CNY
# with rating A and a mortgage is routed by approval_authority.dmn to branch_manager.
CREDIT_STEPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("reviewer_wang", "review_credit", {"review_decision": "approve"}),
    ("risk_zhao", "assess_risk", {"risk_rating": "A"}),
    ("branch_chen", "approve_credit", {"approval_decision": "approve"}),
)
POLL_SLEEP_S = 0.005
POLL_TIMEOUT_S = 10.0
LIST_RETRIES = 50
READY_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 30.0
MAX_ERROR_BODIES = 5


# --------------------------------------------------------------------------------------------
# Small utilities


def uscc(serial: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character) for a serial."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = f"91310115{serial:08d}0"
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(charset.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + charset[(31 - total % 31) % 31]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered))))
    return ordered[rank - 1]


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port on 127.0.0.1")


def rounded(value: float, digits: int = 2) -> float | None:
    return None if value != value else round(value, digits)  # NaN -> None (JSON-friendly)


# --------------------------------------------------------------------------------------------
# Figures: collected as (name, value, unit, note) and printed one per line


@dataclass
class Report:
    figures: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(
        self,
        name: str,
        value: float | int | str | None,
        unit: str = "",
        note: str = "",
        digits: int = 2,
    ) -> None:
        if isinstance(value, float):
            value = rounded(value, digits)
        self.figures[name] = value
        shown = "n/a" if value is None else str(value)
        line = f"{name:<44} {shown:>12} {unit:<14}"
        if note:
            line += f" {note}"
        self.lines.append(line.rstrip())
        print(self.lines[-1], flush=True)

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"FAILED: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Baseline: SpiffWorkflow in memory, no HTTP, no database


def in_memory_spec() -> Any:
    """Parse a lightly edited copy of the credit BPMN with SpiffWorkflow's CamundaParser.

    Edits: `${...}` JUEL conditions become the equivalent Python text, working-day SLA timers a
    fixed far-future date (SpiffWorkflow evaluates
    conditions with Python `eval`; acceptable ONLY here, in the benchmark baseline, on our own
    model — corpflow itself never evals model text), and the business-rule task becomes a plain
    task whose result (`approver_group`) the loop sets itself, as the DMN table would.
    """
    from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

    xml = CREDIT_BPMN.read_text(encoding="utf-8")
    xml = re.sub(
        r">\$\{([^}]*)\}</bpmn:conditionExpression>", r">\1</bpmn:conditionExpression>", xml
    )
    # Working-day SLA timers (corpflow's workdays()) become a fixed far-future date: the
    # baseline runs the happy path, where no SLA fires, but the engine still arms each timer.
    xml = re.sub(
        r">\$\{workdays\(\d+\)\}</bpmn:timeDate>",
        ">'2099-01-01T00:00:00+00:00'</bpmn:timeDate>",
        xml,
    )
    xml = xml.replace("<bpmn:businessRuleTask ", "<bpmn:task ")
    xml = xml.replace("</bpmn:businessRuleTask>", "</bpmn:task>")
    parser = CamundaParser()
    parser.add_bpmn_str(xml.encode("utf-8"), filename=CREDIT_BPMN.name)
    return parser.get_spec("credit_application")


# Data each manual task gets in the baseline; `determine_approval_authority` is the former
# business-rule task, completed with the DMN's answer for this input.
IN_MEMORY_STEPS: dict[str, dict[str, Any]] = {
    "review_credit": {"review_decision": "approve"},
    "assess_risk": {"risk_rating": "A"},
    "determine_approval_authority": {"approver_group": "branch_manager"},
    "approve_credit": {"approval_decision": "approve"},
}


def run_in_memory_instance(spec: Any) -> str:
    """Run one credit application through every task; return the end event's id."""
    from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    wf = BpmnWorkflow(spec)
    wf.task_tree.data.update(customer_id="c-1", initiator="rm_li", **START_VARIABLES)
    wf.do_engine_steps()
    for _ in range(20):  # bounded: the happy path has 5 steps
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if ready:
            task = ready[0]
            task.data.update(IN_MEMORY_STEPS[task.task_spec.bpmn_id])
            task.run()
            wf.do_engine_steps()
            continue
        started = [
            t for t in wf.get_tasks(state=TaskState.STARTED) if isinstance(t.task_spec, ServiceTask)
        ]
        if started:  # the service task (createFacility) is a no-op here
            started[0].complete()
            wf.do_engine_steps()
            continue
        break
    if not wf.is_completed():
        raise RuntimeError("in-memory credit workflow did not complete")
    ends = [
        t.task_spec.bpmn_id
        for t in wf.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id in ("credit_approved", "credit_rejected")
    ]
    return ends[0] if ends else "?"


def bench_in_memory(instances: int, report: Report) -> float:
    spec = in_memory_spec()
    end = run_in_memory_instance(spec)  # warm-up, and check the route
    if end != "credit_approved":
        raise RuntimeError(f"in-memory credit workflow ended at {end}, not credit_approved")
    began = time.perf_counter()
    for _ in range(instances):
        run_in_memory_instance(spec)
    elapsed = time.perf_counter() - began
    per_s = instances / elapsed if elapsed > 0 else float("nan")
    report.add("in_memory.instances", instances)
    report.add("in_memory.wall_s", elapsed, "s")
    report.add(
        "in_memory.instances_per_s",
        per_s,
        "instances/s",
        "SpiffWorkflow only, no HTTP/DB/serialization",
    )
    return per_s


# --------------------------------------------------------------------------------------------
# Database and server


def env_for_server() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CORPFLOW_REDIS_URL", None)
    env.update(
        CORPFLOW_DATABASE_URL=DATABASE_URL, CORPFLOW_JOB_MODE="thread", CORPFLOW_LOG_LEVEL="WARNING"
    )
    # Synthetic data only: the published development keys for personal data are enough.
    env.setdefault("CORPFLOW_ENVIRONMENT", "development")
    return env


def recreate_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        name = sql.Identifier(DB_NAME)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def run_step(args: list[str], env: dict[str, str], timeout_s: float = 300.0) -> None:
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}:\n{tail}")


def prepare_database(env: dict[str, str]) -> None:
    recreate_database()
    run_step([str(BIN / "alembic"), "upgrade", "head"], env)
    # seed-demo builds the app, which also deploys bpmn/ and dmn/ — so the gunicorn workers
    # find the models already deployed and do not race each other deploying them.
    run_step([str(BIN / "flask"), "--app", "wsgi", "seed-demo"], env)


@contextmanager
def running_server(workers: int, threads: int, port: int, env: dict[str, str]) -> Iterator[str]:
    """Start gunicorn, wait until ready, yield the base URL; stop it whatever happens."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in the finally below)
        prefix="corpflow-bench-", suffix=".log", delete=False
    )
    args = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"{HOST}:{port}",
        "wsgi:app",
    ]
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(proc, base, Path(log.name))
        SERVERS[base] = proc
        yield base
    finally:
        SERVERS.pop(base, None)
        stop_server(proc)
        log.close()
        print(f"server log: {log.name}", flush=True)


def children(pid: int) -> list[int]:
    """Child process ids of `pid` (Linux /proc), e.g. an rq worker's current work horse."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(OSError):
            found.extend(int(c) for c in task.read_text().split())
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (Linux /proc); gone ones left out."""
    used: dict[int, float] = {}
    for pid in pids:
        with suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def server_cpu(proc: subprocess.Popen[bytes]) -> dict[str, dict[int, float]]:
    """CPU used so far by gunicorn (master and workers) and by the database's backends."""
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
        ).fetchall()
    return {
        "server": cpu_seconds([proc.pid, *children(proc.pid)]),
        "postgres": cpu_seconds([int(r[0]) for r in rows]),
    }


def report_server_cpu(
    before: dict[str, dict[int, float]],
    after: dict[str, dict[int, float]],
    per: int,
    what: str,
    report: Report,
    prefix: str,
) -> None:
    """CPU per unit of work: steadier than latency on a machine shared with other work."""
    for name in ("server", "postgres"):
        used = sum(v - before[name].get(pid, 0.0) for pid, v in after[name].items())
        report.add(
            f"{prefix}.{name}_cpu_ms_per_{what}",
            1000.0 * used / per if per else float("nan"),
            "ms",
            "gunicorn and its in-process jobs" if name == "server" else "its PostgreSQL backends",
            digits=2,
        )


# The gunicorn process serving each base URL (for the CPU figures).
SERVERS: dict[str, subprocess.Popen[bytes]] = {}


def wait_ready(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail}")
        try:
            response = requests.get(f"{base}/health/ready", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"/health/ready not 200 after {READY_TIMEOUT_S:.0f}s ({last}):\n{tail}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the gunicorn we started (its own process group), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------------------------
# HTTP client with per-kind latency and error accounting


class RequestError(Exception):
    pass


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_bodies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_bodies) < MAX_ERROR_BODIES:
                self.error_bodies.append(f"[{kind}] {what.strip()}")
                print(f"error [{kind}] {what.strip()}", file=sys.stderr, flush=True)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Client:
    """One `requests.Session` per client thread, bearer tokens per user."""

    def __init__(self, base: str, tokens: dict[str, str], stats: Stats) -> None:
        self.base = base
        self.tokens = tokens
        self.stats = stats
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        user: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        files: Any = None,
    ) -> Any:
        """One request as `user`; latency recorded under `kind`; non-2xx raises RequestError."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        began = time.perf_counter()
        try:
            response = self._session().request(
                method,
                self.base + path,
                json=json_body,
                params=params,
                files=files,
                headers=headers,
                timeout=REQUEST_TIMEOUT_S,
            )
        except requests.RequestException as exc:
            self.stats.record(kind, time.perf_counter() - began)
            self.stats.error(kind, f"{method} {path}: {type(exc).__name__}: {exc}")
            raise RequestError(kind) from exc
        self.stats.record(kind, time.perf_counter() - began)
        if not 200 <= response.status_code < 300:
            self.stats.error(
                kind, f"{method} {path} -> {response.status_code} {response.text[:400]}"
            )
            raise RequestError(f"{kind}: {response.status_code}")
        return response.json() if response.content else None


def issue_tokens(base: str, users: dict[str, str]) -> dict[str, str]:
    tokens = {}
    with requests.Session() as session:
        for user, password in users.items():
            response = session.post(
                f"{base}{API}/tokens", auth=(user, password), timeout=REQUEST_TIMEOUT_S
            )
            if not 200 <= response.status_code < 300:
                raise RuntimeError(
                    f"token for {user}: {response.status_code} {response.text[:400]}"
                )
            tokens[user] = response.json()["token"]
    return tokens


# --------------------------------------------------------------------------------------------
# The credit application, end to end


def create_customers(client: Client, count: int, concurrency: int) -> list[str]:
    def one(serial: int) -> str:
        body = client.call(
            "customer",
            "POST",
            f"{API}/customers",
            "rm_li",
            json_body={"uscc": uscc(serial), "name": f"基准测试企业 {serial}"},
        )
        return str(body["id"])

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(1, count + 1)))


def find_task(client: Client, user: str, instance_id: str, element_id: str) -> str:
    """The open task `element_id` of the instance, as `user` sees it (bounded retries)."""
    for _ in range(LIST_RETRIES):
        body = client.call("list", "GET", f"{API}/tasks", user, params={"instance_id": instance_id})
        for item in body.get("items", []):
            if item.get("element_id") == element_id:
                return str(item["id"])
        time.sleep(POLL_SLEEP_S)
    client.stats.error("list", f"{user}: no open {element_id} in instance {instance_id}")
    raise RequestError("list")


def wait_completed(client: Client, instance_id: str) -> None:
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while time.monotonic() < deadline:
        body = client.call("poll", "GET", f"{API}/process-instances/{instance_id}", "admin")
        if body.get("status") == "completed":
            return
        time.sleep(POLL_SLEEP_S)
    client.stats.error("poll", f"instance {instance_id} not completed after {POLL_TIMEOUT_S:.0f}s")
    raise RequestError("poll")


def run_application(client: Client, number: int, customer_id: str) -> bool:
    """One credit application from submission to the end of its service task."""
    try:
        started = client.call(
            "start",
            "POST",
            f"{API}/process-instances",
            "rm_li",
            json_body={
                "process_key": "credit_application",
                "business_key": f"B-{number}",
                "variables": {"customer_id": customer_id, **START_VARIABLES},
            },
        )
        instance_id = str(started["id"])
        first = [t for t in started.get("open_tasks", []) if t.get("element_id") == "review_credit"]
        for index, (user, element_id, values) in enumerate(CREDIT_STEPS):
            if index == 0 and first:
                task_id = str(first[0]["id"])
            else:
                task_id = find_task(client, user, instance_id, element_id)
            client.call("claim", "POST", f"{API}/tasks/{task_id}/claim", user)
            client.call(
                "complete",
                "POST",
                f"{API}/tasks/{task_id}/complete",
                user,
                json_body={"values": values},
            )
        wait_completed(client, instance_id)
        return True
    except RequestError:
        return False
    except Exception as exc:  # a malformed body etc.: count it, keep the run going
        client.stats.error("other", f"application {number}: {type(exc).__name__}: {exc}")
        return False


def run_applications(
    client: Client, first_number: int, customers: list[str], concurrency: int
) -> tuple[int, float]:
    """Run one application per customer with `concurrency` threads; (completed, wall s)."""
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(
            pool.map(
                lambda i: run_application(client, first_number + i, customers[i]),
                range(len(customers)),
            )
        )
    return sum(results), time.perf_counter() - began


def bench_credit(
    base: str,
    tokens: dict[str, str],
    applications: int,
    warmup: int,
    concurrency: int,
    report: Report,
) -> float:
    setup = Stats()
    customers = create_customers(Client(base, tokens, setup), applications + warmup, concurrency)
    if warmup:  # fills every worker's compiled-model cache and connection pool
        warm = Stats()
        done, _ = run_applications(Client(base, tokens, warm), 1, customers[:warmup], concurrency)
        if not done:
            report.figures["credit.warmup_error_bodies"] = warm.error_bodies
            raise RuntimeError(f"none of {warmup} warm-up applications completed; skipped the run")
    stats = Stats()
    client = Client(base, tokens, stats)
    cpu_before = server_cpu(SERVERS[base]) if base in SERVERS else None
    completed, wall = run_applications(client, warmup + 1, customers[warmup:], concurrency)
    if cpu_before is not None:
        cpu_after = server_cpu(SERVERS[base])
        report_server_cpu(cpu_before, cpu_after, completed, "application", report, "credit")
        report_server_cpu(cpu_before, cpu_after, stats.requests, "request", report, "credit")
    per_s = completed / wall if wall > 0 else float("nan")
    report.add("credit.applications", applications)
    report.add("credit.completed", completed)
    report.add(
        "credit.errors", stats.error_count, "", repr(dict(stats.errors)) if stats.errors else ""
    )
    report.add("credit.wall_s", wall, "s")
    report.add(
        "credit.complete_applications_per_s", per_s, "apps/s", f"target >= {TARGET_APPS_PER_S:.0f}"
    )
    report.add(
        "credit.requests_per_s",
        stats.requests / wall if wall > 0 else float("nan"),
        "req/s",
        f"{stats.requests} requests",
    )
    for kind in ("start", "list", "claim", "complete", "poll"):
        values = [s * 1000.0 for s in stats.latencies.get(kind, [])]
        report.add(f"credit.{kind}.count", len(values))
        report.add(f"credit.{kind}.p50_ms", percentile(values, 50), "ms")
        report.add(f"credit.{kind}.p99_ms", percentile(values, 99), "ms")
    report.figures["credit.error_bodies"] = stats.error_bodies
    if completed < applications:
        report.fail(
            f"{applications - completed} of {applications} credit applications did not complete"
        )
    return per_s


# --------------------------------------------------------------------------------------------
# One user task: start + claim + complete, sequential


def deploy_one_task(client: Client) -> None:
    content = ONE_TASK_BPMN.read_bytes()
    client.call(
        "deploy",
        "POST",
        f"{API}/deployments",
        "designer_zhou",
        files={"file": (ONE_TASK_BPMN.name, content, "text/xml")},
    )


def one_task_round(client: Client, user: str) -> tuple[float, float, float]:
    """Start, claim, complete once; the three latencies in seconds."""
    t0 = time.perf_counter()
    started = client.call(
        "start",
        "POST",
        f"{API}/process-instances",
        user,
        json_body={"process_key": "one_user_task", "variables": {}},
    )
    t1 = time.perf_counter()
    task_id = next(str(t["id"]) for t in started["open_tasks"] if t["element_id"] == "do_work")
    client.call("claim", "POST", f"{API}/tasks/{task_id}/claim", user)
    t2 = time.perf_counter()
    client.call(
        "complete",
        "POST",
        f"{API}/tasks/{task_id}/complete",
        user,
        json_body={"values": {"note": "bench"}},
    )
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def probe_admin_claim(client: Client, report: Report) -> None:
    """Does `admin` (group admin, not staff) get to claim a `staff` task? Reported only."""
    started = client.call(
        "probe",
        "POST",
        f"{API}/process-instances",
        "admin",
        json_body={"process_key": "one_user_task", "variables": {}},
    )
    task_id = next(str(t["id"]) for t in started["open_tasks"] if t["element_id"] == "do_work")
    response = requests.post(
        f"{client.base}{API}/tasks/{task_id}/claim",
        timeout=10,
        headers={"Authorization": f"Bearer {client.tokens['admin']}"},
    )
    report.add(
        "one_task.admin_claim_status",
        response.status_code,
        "",
        "admin is not in candidate group staff; the bench uses its own staff user"
        if response.status_code >= 300
        else "admin may claim staff tasks",
    )


def bench_one_task(base: str, tokens: dict[str, str], rounds: int, report: Report) -> None:
    setup = Client(base, tokens, Stats())
    deploy_one_task(setup)
    guarded(report, "admin claim probe", lambda: probe_admin_claim(setup, report))
    setup.call(
        "user",
        "POST",
        f"{API}/users",
        "admin",
        json_body={
            "id": BENCH_USER,
            "password": BENCH_PASSWORD,
            "display_name": "Benchmark staff",
            "groups": ["staff"],
        },
    )
    tokens = {**tokens, **issue_tokens(base, {BENCH_USER: BENCH_PASSWORD})}
    stats = Stats()
    client = Client(base, tokens, stats)
    warm = Client(base, tokens, Stats())
    for _ in range(min(10, rounds)):  # warm-up, untimed
        with suppress(RequestError, StopIteration, KeyError):
            one_task_round(warm, BENCH_USER)
    totals: list[float] = []
    steps: dict[str, list[float]] = {"start": [], "claim": [], "complete": []}
    cpu_before = server_cpu(SERVERS[base]) if base in SERVERS else None
    for _ in range(rounds):
        try:
            start, claim, complete = one_task_round(client, BENCH_USER)
        except (RequestError, StopIteration, KeyError):
            continue
        totals.append((start + claim + complete) * 1000.0)
        for name, seconds in zip(steps, (start, claim, complete), strict=True):
            steps[name].append(seconds * 1000.0)
    if cpu_before is not None:
        cpu_after = server_cpu(SERVERS[base])
        report_server_cpu(cpu_before, cpu_after, len(totals), "round", report, "one_task")
    report.add("one_task.rounds", rounds)
    report.add("one_task.errors", stats.error_count)
    report.add(
        "one_task.start_claim_complete.p50_ms",
        percentile(totals, 50),
        "ms",
        f"target <= {TARGET_ONE_TASK_P50_MS:.0f} ms; spiff-arena backend "
        f"~{SPIFF_ARENA_ONE_TASK_MS:.0f} ms",
    )
    report.add("one_task.start_claim_complete.p99_ms", percentile(totals, 99), "ms")
    for name, values in steps.items():
        report.add(f"one_task.{name}.p50_ms", percentile(values, 50), "ms")
    report.figures["one_task.error_bodies"] = stats.error_bodies
    if len(totals) < rounds:
        report.fail(f"{rounds - len(totals)} of {rounds} one-task rounds failed")


# --------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument(
        "--applications",
        type=int,
        default=None,
        help="credit applications to run (default 300; 30 with --quick)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed applications before the run (default 10; 4 with --quick)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="one-user-task rounds (default 200; 50 with --quick)",
    )
    parser.add_argument(
        "--in-memory-instances",
        type=int,
        default=None,
        help="baseline instances (default 1000; 200 with --quick)",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to try first (another free one if taken)"
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--in-memory-only",
        action="store_true",
        help="run only the SpiffWorkflow baseline (no database, no server)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON"
    )
    args = parser.parse_args(argv)

    def pick(value: int | None, normal: int, quick: int) -> int:
        return value if value is not None else (quick if args.quick else normal)

    args.applications = pick(args.applications, 300, 30)
    args.warmup = pick(args.warmup, 10, 4)
    args.rounds = pick(args.rounds, 200, 50)
    args.in_memory_instances = pick(args.in_memory_instances, 1000, 200)
    for name in (
        "workers",
        "threads",
        "applications",
        "concurrency",
        "rounds",
        "in_memory_instances",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def guarded(report: Report, what: str, action: Callable[[], Any]) -> Any:
    """Run one phase; on failure record it and carry on with the next phase."""
    try:
        return action()
    except Exception as exc:
        traceback.print_exc()
        report.fail(f"{what}: {type(exc).__name__}: {str(exc)[:2000]}")
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    report.figures["config"] = {
        "workers": args.workers,
        "threads": args.threads,
        "applications": args.applications,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "in_memory_instances": args.in_memory_instances,
        "cpus": os.cpu_count(),
    }
    print(f"corpflow benchmark: {json.dumps(report.figures['config'])}", flush=True)

    in_memory_per_s = guarded(
        report, "in-memory baseline", lambda: bench_in_memory(args.in_memory_instances, report)
    )
    http_per_s = None
    if not args.in_memory_only:

        def http_phase() -> float:
            env = env_for_server()
            prepare_database(env)
            port = free_port(args.port)
            with running_server(args.workers, args.threads, port, env) as base:
                tokens = issue_tokens(base, STAFF)
                per_s = bench_credit(
                    base, tokens, args.applications, args.warmup, args.concurrency, report
                )
                guarded(
                    report,
                    "one-user-task measurement",
                    lambda: bench_one_task(base, tokens, args.rounds, report),
                )
                return per_s

        http_per_s = guarded(report, "HTTP benchmark", http_phase)
    if http_per_s and in_memory_per_s:
        report.add(
            "ratio.http_over_in_memory",
            http_per_s / in_memory_per_s,
            "",
            "complete apps/s over HTTP+DB / in-memory instances/s",
            digits=4,
        )
    report.figures["targets"] = {
        "complete_applications_per_s_min": TARGET_APPS_PER_S,
        "one_task_start_claim_complete_p50_ms_max": TARGET_ONE_TASK_P50_MS,
        "spiff_arena_one_task_reference_ms": SPIFF_ARENA_ONE_TASK_MS,
    }
    report.figures["failures"] = report.failures
    if args.json:
        args.json.write_text(
            json.dumps(report.figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"figures written to {args.json}", flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
