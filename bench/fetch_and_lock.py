"""External-task benchmark: fetch-and-lock + complete over HTTP by concurrent workers.

What one run does (all against 127.0.0.1 only):

1. Unless ``--base`` names a running corpflow: drops and recreates the PostgreSQL database
   ``corpflow_bench_et``, builds the schema from the models and seeds the demo staff, then
   starts corpflow under gunicorn (the same way as ``credit_throughput.py``).
2. Deploys ``tests/bpmn/external_task_error.bpmn`` through ``/engine-rest`` and starts N
   instances, each waiting in one external task (topic ``charge-card``).
3. W worker threads each loop ``POST /engine-rest/external-task/fetchAndLock`` (maxTasks M)
   and ``POST /external-task/{id}/complete`` until every task is done; prints tasks/s and how
   many tasks were handed to more than one worker (must be 0).
4. Baseline in the same run: the same number of no-op round trips (``GET /engine-rest/version``)
   by the same number of threads, and the ratio.

Usage: ``.venv/bin/python bench/fetch_and_lock.py [--tasks 2000] [--workers 4] [--max-tasks 10]``
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import credit_throughput
from credit_throughput import (
    BIN,
    ROOT,
    env_for_server,
    free_port,
    recreate_database,
    run_step,
    running_server,
)

DB_NAME = "corpflow_bench_et"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
AUTH = ("admin", "admin-pass")
BPMN = ROOT / "tests" / "bpmn" / "external_task_error.bpmn"
TOPIC = "charge-card"
# The schema from the models (the migration for external tasks and messages comes later).
CREATE_SCHEMA = (
    "import app.models; from app.db import Base, make_engine; import os; "
    "Base.metadata.create_all(make_engine(os.environ['CORPFLOW_DATABASE_URL']))"
)


def prepare(env: dict[str, str]) -> None:
    credit_throughput.DB_NAME = DB_NAME
    recreate_database()
    run_step([str(BIN / "python"), "-c", CREATE_SCHEMA], env)
    run_step([str(BIN / "flask"), "--app", "wsgi", "seed-demo"], env)


def deploy_and_start(rest: str, count: int, concurrency: int) -> float:
    with BPMN.open("rb") as handle:
        deployed = requests.post(
            f"{rest}/deployment/create",
            data={"deployment-name": "bench-external", "enable-duplicate-filtering": "true"},
            files={BPMN.name: (BPMN.name, handle, "text/xml")},
            auth=AUTH,
            timeout=30,
        )
    deployed.raise_for_status()
    local = threading.local()

    def start(number: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        response = session.post(
            f"{rest}/process-definition/key/external_task_error/start",
            json={"businessKey": f"B-{number}", "variables": {"amount": {"value": number}}},
            auth=AUTH,
            timeout=30,
        )
        response.raise_for_status()

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(start, range(count)))
    return count / (time.perf_counter() - began)


def run_workers(rest: str, count: int, workers: int, max_tasks: int) -> dict[str, Any]:
    handed: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    requests_made = Counter[str]()

    def work(worker: str) -> None:
        with requests.Session() as session:
            while not done.is_set():
                response = session.post(
                    f"{rest}/external-task/fetchAndLock",
                    json={
                        "workerId": worker,
                        "maxTasks": max_tasks,
                        "asyncResponseTimeout": 1000,
                        "topics": [{"topicName": TOPIC, "lockDuration": 60_000}],
                    },
                    auth=AUTH,
                    timeout=30,
                )
                with lock:
                    requests_made["fetchAndLock"] += 1
                if response.status_code != 200:
                    errors.append(f"fetch {response.status_code} {response.text[:200]}")
                    continue
                batch = response.json()
                for task in batch:
                    answer = session.post(
                        f"{rest}/external-task/{task['id']}/complete",
                        json={"workerId": worker, "variables": {"paid": {"value": True}}},
                        auth=AUTH,
                        timeout=30,
                    )
                    with lock:
                        requests_made["complete"] += 1
                        handed.append(task["id"])
                        if answer.status_code != 204:
                            errors.append(f"complete {answer.status_code} {answer.text[:200]}")
                        if len(handed) >= count:
                            done.set()

    threads = [threading.Thread(target=work, args=(f"bench-{n}",)) for n in range(workers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    done.wait(timeout=max(60.0, count / 2))
    elapsed = time.perf_counter() - began
    done.set()
    for thread in threads:
        thread.join(35)
    duplicates = sum(n - 1 for n in Counter(handed).values() if n > 1)
    return {
        "tasks": len(handed),
        "seconds": round(elapsed, 2),
        "tasks_per_s": round(len(handed) / elapsed, 1),
        "duplicates": duplicates,
        "errors": len(errors),
        "first_errors": errors[:3],
        "requests": dict(requests_made),
    }


def run_baseline(rest: str, count: int, workers: int) -> dict[str, Any]:
    per_worker = count // workers

    def loop(_n: int) -> None:
        with requests.Session() as session:
            for _ in range(per_worker):
                session.get(f"{rest}/version", auth=AUTH, timeout=30).raise_for_status()

    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(loop, range(workers)))
    elapsed = time.perf_counter() - began
    return {"round_trips": per_worker * workers, "per_s": round(per_worker * workers / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="concurrent worker threads")
    parser.add_argument("--max-tasks", type=int, default=10, help="maxTasks per fetchAndLock")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--base", help="a running corpflow (http://host:port); none: start one")
    args = parser.parse_args(argv)
    env = env_for_server()
    env["CORPFLOW_DATABASE_URL"] = DATABASE_URL
    if args.base is None:
        prepare(env)
    server = (
        nullcontext(args.base.rstrip("/"))
        if args.base
        else running_server(args.gunicorn_workers, args.threads, free_port(8766), env)
    )
    with server as base:
        rest = f"{base}/engine-rest"
        starts_per_s = deploy_and_start(rest, args.tasks, args.workers * 2)
        workers = run_workers(rest, args.tasks, args.workers, args.max_tasks)
        baseline = run_baseline(rest, args.tasks, args.workers)
    figures = {
        "config": vars(args),
        "instance_starts_per_s": round(starts_per_s, 1),
        "external_tasks": workers,
        "baseline_noop_get": baseline,
        "ratio_tasks_over_noop_round_trips": round(workers["tasks_per_s"] / baseline["per_s"], 3),
    }
    print(json.dumps(figures, indent=2))
    ok = workers["duplicates"] == 0 and workers["tasks"] == args.tasks and not workers["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
