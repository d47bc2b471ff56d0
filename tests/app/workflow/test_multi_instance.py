"""Camunda multi-instance in Run: collections, element variables, cardinality, completion."""

from __future__ import annotations

import pytest

from app.errors import EngineError
from app.workflow.compiler import CompiledBpmn, compile_model
from app.workflow.runtime import Run
from tests.conftest import ROOT

TINY = ROOT / "tests" / "bpmn"


def model(name: str) -> CompiledBpmn:
    """Compiled afresh each time: a restored instance must not rely on this process's past."""
    result = compile_model((TINY / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    assert isinstance(result, CompiledBpmn)
    assert result.document.errors == [], result.document.errors
    return result


def test_parallel_user_tasks_one_per_element() -> None:
    run = Run.start(
        model("mi_parallel_users"),
        "mi_parallel_users",
        {"reviewers": ["wang", "zhao", "chen"], "reviewer": "outer"},
    )
    tasks = run.user_tasks()
    assert [(t.element_id, t.data["reviewer"], t.data["loopCounter"]) for t in tasks] == [
        ("each", "wang", 0),
        ("each", "zhao", 1),
        ("each", "chen", 2),
    ]
    for number, task in enumerate(tasks):
        run = Run.restore(model("mi_parallel_users"), "mi_parallel_users", run.state())
        run.complete_user_task(task.id, {f"vote_{task.data['reviewer']}": number, "shared": number})
        if number < 2:
            assert [t.element_id for t in run.user_tasks()] == ["each"] * (2 - number)
    (after,) = run.user_tasks()
    assert after.element_id == "after_each"
    # Each instance's writes reach the process; its locals do not; `reviewer` is the outer one.
    assert after.data == {
        "reviewers": ["wang", "zhao", "chen"],
        "reviewer": "outer",
        "vote_wang": 0,
        "vote_zhao": 1,
        "vote_chen": 2,
        "shared": 2,
    }


def test_parallel_instances_do_not_undo_each_other() -> None:
    run = Run.start(
        model("mi_parallel_users"), "mi_parallel_users", {"reviewers": ["a", "b"], "n": 0}
    )
    first, second = run.user_tasks()
    run.complete_user_task(first.id, {"n": 1})
    run.complete_user_task(second.id, {"other": True})  # `n` unchanged in this instance
    assert run.user_tasks()[0].data["n"] == 1


def test_sequential_instances_run_in_turn_and_see_earlier_writes() -> None:
    run = Run.start(model("mi_sequential_users"), "mi_sequential_users", {"reviewers": ["a", "b"]})
    seen: list[str] = []
    while (task := run.user_tasks()[0]).element_id == "each":
        assert len(run.user_tasks()) == 1
        assert task.data.get("seen", []) == seen
        seen = [*seen, task.data["reviewer"]]
        run = Run.restore(model("mi_sequential_users"), "mi_sequential_users", run.state())
        run.complete_user_task(task.id, {"seen": seen})
    assert run.user_tasks()[0].data == {"reviewers": ["a", "b"], "seen": ["a", "b"]}


def test_completion_condition_cancels_the_remaining_instances() -> None:
    run = Run.start(model("mi_completion"), "mi_completion", {"voters": ["a", "b", "c"]})
    first, _second, third = run.user_tasks()
    run.complete_user_task(first.id, {"yes": 1})
    assert len(run.user_tasks()) == 2  # nrOfCompletedInstances = 1
    run.complete_user_task(third.id, {"yes": 2})
    (after,) = run.user_tasks()
    assert after.element_id == "after_each"
    assert after.data == {"voters": ["a", "b", "c"], "yes": 2}


def test_loop_cardinality_service_tasks_each_get_a_job() -> None:
    run = Run.start(model("mi_cardinality_service"), "mi_cardinality_service", {"copies": 3})
    services = run.service_tasks()
    assert [s.element_id for s in services] == ["each"] * 3  # the body itself runs nothing
    counters = [run.variables_for(s.id)["loopCounter"] for s in services]
    assert sorted(counters) == [0, 1, 2]
    for service in services:
        run = Run.restore(model("mi_cardinality_service"), "mi_cardinality_service", run.state())
        run.complete_service_task(
            service.id, {"echoed": run.variables_for(service.id)["loopCounter"]}
        )
    (after,) = run.user_tasks()
    assert after.data["echoed"] in (0, 1, 2)
    assert "loopCounter" not in after.data


def test_collection_expression_and_empty_collection() -> None:
    run = Run.start(model("mi_collection_service"), "mi_collection_service", {"items": ["x", "y"]})
    (service,) = run.service_tasks()  # sequential: one at a time
    assert run.variables_for(service.id)["item"] == "x"
    empty = Run.start(model("mi_collection_service"), "mi_collection_service", {"items": []})
    assert [t.element_id for t in empty.user_tasks()] == ["after_each"]


@pytest.mark.parametrize(
    ("name", "variables", "reason"),
    [
        ("mi_collection_service", {"items": "abc"}, "must be a list"),
        ("mi_collection_service", {"items": {"a": 1}}, "must be a list"),
        ("mi_cardinality_service", {"copies": -1}, "whole number"),
        ("mi_cardinality_service", {"copies": "many"}, "whole number"),
        ("mi_parallel_users", {}, "reviewers"),
    ],
)
def test_bad_collections_and_cardinalities_are_engine_errors(
    name: str, variables: dict[str, object], reason: str
) -> None:
    with pytest.raises(EngineError) as caught:
        Run.start(model(name), name, variables)
    assert reason in caught.value.message
    assert caught.value.details.get("element_id") == "each"
