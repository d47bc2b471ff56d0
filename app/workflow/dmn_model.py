"""Compiled DMN decisions, their evaluation (hit policies, DRG, typeRef coercion) and results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.errors import EngineError, ModelError
from app.workflow.expression_functions import OperationError, parse_datetime, type_name
from app.workflow.expressions import Expression, ExpressionError

HIT_POLICIES = frozenset(
    {"UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"}
)
AGGREGATIONS = frozenset({"SUM", "MIN", "MAX", "COUNT"})


class DmnError(ModelError):
    """A DMN file cannot be deployed; names the file, decision, element, line and text."""

    def __init__(
        self,
        reason: str,
        *,
        filename: str,
        decision_id: str | None = None,
        element_id: str | None = None,
        line: int | None = None,
        text: str | None = None,
    ) -> None:
        where = [filename + (f" line {line}" if line else "")]
        where += [f"decision '{decision_id}'"] if decision_id else []
        where += [f"element '{element_id}'"] if element_id else []
        message = f"{', '.join(where)}: {reason}"
        if text is not None and text not in reason:
            message += f" (text: {text[:200]!r})"
        super().__init__(
            message,
            filename=filename,
            decision_id=decision_id,
            element_id=element_id,
            line=line,
            text=text,
        )


class DecisionEvaluationError(EngineError):
    """A decision could not be evaluated or its result does not fit the requested mapping."""

    code = "decision_evaluation_failed"

    def __init__(self, decision_id: str, reason: str) -> None:
        super().__init__(f"decision '{decision_id}': {reason}", decision_id=decision_id)
        self.decision_id = decision_id


class CoercionError(ValueError):
    """A value does not fit a DMN typeRef."""


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise CoercionError


def _to_integer(bits: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise CoercionError
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise CoercionError from None
        if not isinstance(value, int) or value.bit_length() >= bits:
            raise CoercionError
        return value

    return convert


def _to_double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CoercionError
    try:
        return float(value)
    except ValueError:
        raise CoercionError from None


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise CoercionError


def _to_date(value: Any) -> dt.datetime:
    # Camunda's `date` is java.util.Date, an instant: always hand out an aware datetime.
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except OperationError:
            raise CoercionError from None
    raise CoercionError


_COERCIONS: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "integer": _to_integer(32),
    "long": _to_integer(64),
    "double": _to_double,
    "number": _to_double,
    "boolean": _to_boolean,
    "date": _to_date,
    "date and time": _to_date,
}


def coerce(value: Any, type_ref: str | None) -> Any:
    """Convert `value` to a typeRef; unknown typeRefs pass values through, as Camunda does."""
    convert = _COERCIONS.get((type_ref or "").strip().lower())
    if value is None or convert is None:
        return value
    try:
        return convert(value)
    except CoercionError:
        # Only the type: the value is task data and error messages reach API callers.
        raise ValueError(f"cannot convert a {type_name(value)} value to {type_ref}") from None


@dataclass(frozen=True)
class DecisionInput:
    id: str
    label: str
    text: str
    expression: Expression
    type_ref: str | None
    input_variable: str = "cellInput"


@dataclass(frozen=True)
class DecisionOutput:
    id: str
    name: str
    label: str
    type_ref: str | None
    output_values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    input_entries: tuple[Expression | None, ...]  # None: the cell matches anything
    output_entries: tuple[Expression | None, ...]  # None: empty cell, left out of the result


@dataclass(frozen=True)
class DecisionTable:
    id: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[DecisionInput, ...]
    outputs: tuple[DecisionOutput, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class LiteralExpression:
    variable_name: str
    type_ref: str | None
    expression: Expression


class DecisionResult(list[dict[str, Any]]):
    """Rule results in order, with Camunda's `mapDecisionResult` mappings."""

    def __init__(self, decision_id: str, results: list[dict[str, Any]]) -> None:
        super().__init__(results)
        self.decision_id = decision_id

    def _fail(self, reason: str) -> DecisionEvaluationError:
        return DecisionEvaluationError(self.decision_id, reason)

    def single_result(self) -> dict[str, Any] | None:
        if len(self) > 1:
            raise self._fail(f"expected at most one result (singleResult), got {len(self)}")
        return dict(self[0]) if self else None

    def single_entry(self) -> Any:
        result = self.single_result()
        if result is None:
            return None
        if len(result) > 1:
            raise self._fail(f"expected one output (singleEntry), got {sorted(result)}")
        return next(iter(result.values()), None)

    def collect_entries(self) -> list[Any]:
        values: list[Any] = []
        for result in self:
            if len(result) > 1:
                raise self._fail(f"collectEntries needs a single output, got {sorted(result)}")
            values.extend(result.values())
        return values

    def result_list(self) -> list[dict[str, Any]]:
        return [dict(result) for result in self]


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    required: tuple[str, ...] = ()
    table: DecisionTable | None = None
    literal: LiteralExpression | None = None
    line: int | None = field(default=None, compare=False)

    def evaluate(
        self, variables: Mapping[str, Any], registry: Mapping[str, Decision] | None = None
    ) -> DecisionResult:
        """Evaluate; with a registry, required decisions run first and feed their outputs in.

        Without a registry the decision is evaluated on its own, so the outputs of its
        required decisions must already be among `variables`.
        """
        scope = dict(variables)
        if registry is not None:
            for required_id in self.required:
                required = registry.get(required_id)
                if required is None:
                    raise DecisionEvaluationError(
                        self.id, f"required decision '{required_id}' is not deployed"
                    )
                scope.update(required.result_variables(required.evaluate(variables, registry)))
        if self.literal is not None:
            value = self._run(self.literal.expression, scope, "literal expression")
            return DecisionResult(
                self.id,
                [
                    {
                        self.literal.variable_name: self._coerce(
                            value, self.literal.type_ref, "result"
                        )
                    }
                ],
            )
        assert self.table is not None
        return DecisionResult(self.id, self._evaluate_table(self.table, scope))

    def result_variables(self, result: DecisionResult) -> dict[str, Any]:
        """How a required decision's result is seen by dependents (Camunda's DRG rules)."""
        many = self.table is not None and self.table.hit_policy in {"COLLECT", "RULE ORDER"}
        if not result:
            return {}
        if len(result) == 1 and not many:
            return dict(result[0])
        names = dict.fromkeys(name for entry in result for name in entry)
        return {name: [entry[name] for entry in result if name in entry] for name in names}

    def _run(
        self,
        expression: Expression,
        scope: Mapping[str, Any],
        where: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return expression.evaluate(scope, extra)
        except ExpressionError as exc:
            raise DecisionEvaluationError(self.id, f"{where}: {exc}") from None

    def _coerce(self, value: Any, type_ref: str | None, where: str) -> Any:
        try:
            return coerce(value, type_ref)
        except ValueError as exc:
            raise DecisionEvaluationError(self.id, f"{where}: {exc}") from None

    def _evaluate_table(
        self, table: DecisionTable, scope: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        values = []
        for item in table.inputs:
            where = f"input '{item.label or item.id}'"
            raw = self._run(item.expression, scope, where)
            values.append((item.input_variable, self._coerce(raw, item.type_ref, where)))
        matched: list[tuple[Rule, dict[str, Any]]] = []
        for rule in table.rules:
            if all(
                entry is None or bool(self._run(entry, scope, f"rule '{rule.id}'", {name: value}))
                for entry, (name, value) in zip(rule.input_entries, values, strict=True)
            ):
                matched.append((rule, self._outputs(table, rule, scope)))
        return self._apply_hit_policy(table, matched)

    def _outputs(
        self, table: DecisionTable, rule: Rule, scope: Mapping[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for output, entry in zip(table.outputs, rule.output_entries, strict=True):
            if entry is not None:
                where = f"rule '{rule.id}' output '{output.name}'"
                result[output.name] = self._coerce(
                    self._run(entry, scope, where), output.type_ref, where
                )
        return result

    def _apply_hit_policy(
        self, table: DecisionTable, matched: list[tuple[Rule, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        policy = table.hit_policy
        results = [result for _, result in matched]
        ids = ", ".join(f"'{rule.id}'" for rule, _ in matched)
        if policy == "UNIQUE" and len(matched) > 1:
            raise DecisionEvaluationError(self.id, f"hit policy UNIQUE but rules {ids} all match")
        if policy == "ANY" and any(r != results[0] for r in results):
            raise DecisionEvaluationError(
                self.id, f"hit policy ANY but rules {ids} give different outputs"
            )
        if policy in {"FIRST", "ANY"}:
            return results[:1]
        if policy in {"PRIORITY", "OUTPUT ORDER"}:
            results.sort(key=lambda r: _priority(table.outputs, r))
            return results[:1] if policy == "PRIORITY" else results
        if policy == "COLLECT" and table.aggregation:
            return self._aggregate(table, results)
        return results

    def _aggregate(
        self, table: DecisionTable, results: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        name = table.outputs[0].name
        values = [r[name] for r in results if r.get(name) is not None]
        if table.aggregation == "COUNT":
            return [{name: len(values)}]
        if not values:
            return []
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            raise DecisionEvaluationError(
                self.id,
                f"COLLECT {table.aggregation} needs numbers, got {[type_name(v) for v in values]}",
            )
        if table.aggregation == "SUM":
            return [{name: sum(values)}]
        return [{name: min(values) if table.aggregation == "MIN" else max(values)}]


def _priority(outputs: tuple[DecisionOutput, ...], result: Mapping[str, Any]) -> tuple[int, ...]:
    # Earlier in outputValues = higher priority; values not listed come last.
    key = []
    for output in outputs:
        listed = output.output_values
        value = result.get(output.name)
        key.append(listed.index(value) if value in listed else len(listed))
    return tuple(key)
