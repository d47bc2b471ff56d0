"""Tests for corpflow's own DMN evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from app.errors import ModelError
from app.workflow.dmn import DecisionEvaluationError, DmnError, DmnFile, parse_dmn

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def load(xml: str, filename: str = "test.dmn") -> DmnFile:
    return parse_dmn(etree.fromstring(xml.encode(), SAFE_PARSER), filename=filename)


def load_corpus(relative: str) -> DmnFile:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"corpus file {relative} is not available")
    return parse_dmn(etree.parse(str(path), SAFE_PARSER).getroot(), filename=path.name)


def table(
    rules: list[tuple[str, str]],
    *,
    hit_policy: str = "UNIQUE",
    aggregation: str = "",
    output_type: str = "string",
    output_values: str = "",
) -> str:
    """One input (amount) and one output (risk); each rule is (input cell, output cell)."""
    attrs = f'hitPolicy="{hit_policy}"' + (f' aggregation="{aggregation}"' if aggregation else "")
    values = f"<outputValues><text>{output_values}</text></outputValues>" if output_values else ""
    body = "".join(
        f'<rule id="r{i}"><inputEntry id="i{i}"><text>{cell}</text></inputEntry>'
        f'<outputEntry id="o{i}"><text>{out}</text></outputEntry></rule>'
        for i, (cell, out) in enumerate(rules, start=1)
    )
    return f"""<definitions xmlns="{DMN13}" id="defs" name="Risk">
      <decision id="risk" name="Risk">
        <decisionTable id="table" {attrs}>
          <input id="in1" label="Amount">
            <inputExpression id="ie1" typeRef="integer"><text>amount</text></inputExpression>
          </input>
          <output id="out1" name="risk" typeRef="{output_type}">{values}</output>
          {body}
        </decisionTable>
      </decision>
    </definitions>"""


THREE_MATCHING = [("&gt; 1", '"low"'), ("&gt; 2", '"high"'), ("&gt; 3", '"medium"')]
RANKED = '"high","medium","low"'


def evaluate(xml: str, **variables: object) -> list[dict[str, object]]:
    return load(xml).evaluate("risk", variables).result_list()


def test_dmn_unique_with_two_matches_names_both_rules() -> None:
    with pytest.raises(DecisionEvaluationError) as info:
        evaluate(table(THREE_MATCHING), amount=10)
    message = str(info.value)
    assert "'risk'" in message
    assert "'r1'" in message
    assert "'r2'" in message


def test_dmn_unique_single_match() -> None:
    assert evaluate(table(THREE_MATCHING), amount=2) == [{"risk": "low"}]


def test_dmn_first_returns_first_matching_rule() -> None:
    assert evaluate(table(THREE_MATCHING, hit_policy="FIRST"), amount=10) == [{"risk": "low"}]


def test_dmn_any_requires_equal_outputs() -> None:
    same = [("&gt; 1", '"x"'), ("&gt; 2", '"x"'), ("&gt; 3", '"x"')]
    assert evaluate(table(same, hit_policy="ANY"), amount=10) == [{"risk": "x"}]
    with pytest.raises(DecisionEvaluationError, match="ANY"):
        evaluate(table(THREE_MATCHING, hit_policy="ANY"), amount=10)


def test_dmn_priority_uses_output_values_order() -> None:
    xml = table(THREE_MATCHING, hit_policy="PRIORITY", output_values=RANKED)
    assert evaluate(xml, amount=10) == [{"risk": "high"}]


def test_dmn_output_order_sorts_by_priority() -> None:
    xml = table(THREE_MATCHING, hit_policy="OUTPUT ORDER", output_values=RANKED)
    assert evaluate(xml, amount=10) == [{"risk": "high"}, {"risk": "medium"}, {"risk": "low"}]


def test_dmn_rule_order_keeps_rule_order() -> None:
    xml = table(THREE_MATCHING, hit_policy="RULE ORDER")
    assert evaluate(xml, amount=10) == [{"risk": "low"}, {"risk": "high"}, {"risk": "medium"}]


def test_dmn_collect_without_aggregation() -> None:
    result = load(table(THREE_MATCHING, hit_policy="COLLECT")).evaluate("risk", {"amount": 10})
    assert result.collect_entries() == ["low", "high", "medium"]


@pytest.mark.parametrize(("aggregation", "expected"), [("SUM", 60), ("MIN", 10), ("MAX", 30)])
def test_dmn_collect_aggregates(aggregation: str, expected: int) -> None:
    numbers = [("&gt; 1", "10"), ("&gt; 2", "20"), ("&gt; 3", "30")]
    xml = table(numbers, hit_policy="COLLECT", aggregation=aggregation, output_type="integer")
    result = load(xml).evaluate("risk", {"amount": 10})
    assert result.result_list() == [{"risk": expected}]
    assert result.single_entry() == expected


def test_dmn_collect_count_counts_matches() -> None:
    xml = table(THREE_MATCHING, hit_policy="COLLECT", aggregation="COUNT")
    assert evaluate(xml, amount=10) == [{"risk": 3}]
    assert evaluate(xml, amount=0) == [{"risk": 0}]


def test_dmn_no_match_gives_empty_result() -> None:
    result = load(table(THREE_MATCHING)).evaluate("risk", {"amount": 0})
    assert result.result_list() == []
    assert result.single_result() is None
    assert result.single_entry() is None


def test_dmn_single_result_rejects_many() -> None:
    result = load(table(THREE_MATCHING, hit_policy="RULE ORDER")).evaluate("risk", {"amount": 10})
    with pytest.raises(DecisionEvaluationError, match="singleResult"):
        result.single_entry()


def test_dmn_output_typeref_coerces_string_to_integer() -> None:
    xml = table([("-", '"10"')], output_type="integer")
    assert evaluate(xml, amount=1) == [{"risk": 10}]


def test_dmn_input_typeref_coerces() -> None:
    assert evaluate(table([("&lt; 5", '"x"')]), amount="3") == [{"risk": "x"}]
    with pytest.raises(DecisionEvaluationError, match="cannot convert a string value"):
        evaluate(table([("&lt; 5", '"x"')]), amount="three")


def test_dmn_bad_output_coercion_is_clear() -> None:
    xml = table([("-", '"ten"')], output_type="integer")
    with pytest.raises(DecisionEvaluationError, match="rule 'r1' output 'risk'"):
        evaluate(xml, amount=1)


def test_dmn_null_input_does_not_match_comparisons() -> None:
    xml = table([("&lt; 5", '"small"'), ("-", '"any"')], hit_policy="FIRST")
    assert evaluate(xml, amount=None) == [{"risk": "any"}]


def test_dmn_unknown_input_variable_is_an_evaluation_error() -> None:
    with pytest.raises(DecisionEvaluationError, match="unknown variable 'amount'"):
        evaluate(table(THREE_MATCHING))


def test_dmn_bad_cell_names_file_rule_line_and_text() -> None:
    xml = table([("foo(1)", '"x"')])
    with pytest.raises(DmnError) as info:
        load(xml, filename="bad.dmn")
    error = info.value
    assert isinstance(error, ModelError)
    message = str(error)
    assert "bad.dmn" in message
    assert "decision 'risk'" in message
    assert "element 'i1'" in message
    assert "foo(1)" in message
    assert error.details["line"] is not None


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (table(THREE_MATCHING, hit_policy="BEST"), "unknown hit policy"),
        (table(THREE_MATCHING, hit_policy="COLLECT", aggregation="AVG"), "unknown aggregation"),
        (table(THREE_MATCHING, hit_policy="FIRST", aggregation="SUM"), "needs hit policy"),
        (table(THREE_MATCHING, hit_policy="PRIORITY"), "needs outputValues"),
        (table([("&gt; __import__('os')", '"x"')]), "cannot translate"),
        (table([("-", "().__class__")]), "cannot translate"),
    ],
)
def test_dmn_rejects_invalid_tables(xml: str, reason: str) -> None:
    with pytest.raises(DmnError, match=reason):
        load(xml)


def test_dmn_rejects_non_dmn_root() -> None:
    with pytest.raises(DmnError, match="not a DMN"):
        load("<definitions xmlns='urn:other'/>")


def test_dmn_detects_requirement_cycle() -> None:
    xml = f"""<definitions xmlns="{DMN13}" id="d">
      <decision id="a"><informationRequirement><requiredDecision href="#b"/>
        </informationRequirement><literalExpression><text>1</text></literalExpression></decision>
      <decision id="b"><informationRequirement><requiredDecision href="#a"/>
        </informationRequirement><literalExpression><text>2</text></literalExpression></decision>
    </definitions>"""
    with pytest.raises(DmnError, match="cycle"):
        load(xml)


def test_dmn_literal_expression_decision() -> None:
    xml = f"""<definitions xmlns="{DMN13}" id="d">
      <decision id="fee"><variable name="fee" typeRef="double"/>
        <literalExpression><text>if amount &gt; 100 then amount * 0.01 else 1</text>
        </literalExpression></decision>
    </definitions>"""
    assert load(xml).evaluate("fee", {"amount": 1000}).single_entry() == 10.0


def test_dmn_drd_dish_with_given_season_and_guest_count() -> None:
    dmn = load_corpus("camunda7-dmn/DrdDishDecisionExample.dmn")
    assert set(dmn.decisions) == {"Dish", "Season", "GuestCount"}
    result = dmn.decisions["Dish"].evaluate({"season": "Winter", "guestCount": 8})
    assert result.single_entry() == "Spareribs"


def test_dmn_drd_dish_evaluates_required_decisions() -> None:
    dmn = load_corpus("camunda7-dmn/DrdDishDecisionExample.dmn")
    assert dmn.decisions["Dish"].required == ("Season", "GuestCount")
    assert dmn.evaluate("Dish", {"temperature": 5, "dayType": "WeekDay"}).single_entry() == (
        "Spareribs"
    )
    assert dmn.evaluate("Dish", {"temperature": 20, "dayType": "Weekend"}).single_entry() == (
        "Steak"
    )


def test_dmn_invoice_drd_assigns_approver_groups() -> None:
    dmn = load_corpus("camunda7-invoice/invoiceBusinessDecisions.dmn")
    assert dmn.decisions["invoice-assign-approver"].required == ("invoiceClassification",)
    variables = {"amount": 249, "invoiceCategory": "Misc"}
    assert dmn.evaluate("invoiceClassification", variables).single_entry() == ("day-to-day expense")
    # Both "day-to-day expense" rules of the COLLECT table match.
    groups = dmn.evaluate("invoice-assign-approver", variables).collect_entries()
    assert groups == ["accounting", "sales"]
    budget = {"amount": 500, "invoiceCategory": "Misc"}
    assert dmn.evaluate("invoice-assign-approver", budget).collect_entries() == ["management"]


def test_dmn_example_file_with_empty_cells() -> None:
    dmn = load_corpus("camunda7-dmn/Example.dmn")
    result = dmn.evaluate("decision", {"status": "bronze", "sum": 10})
    assert result.single_result() == {
        "result": "notok",
        "reason": "work on your status first, as bronze you're not going to get anything",
    }
