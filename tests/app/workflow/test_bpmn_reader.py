"""compile_model on the MIWG corpus, on the credit model and on crafted hostile XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ModelError
from app.workflow.compiler import CompiledBpmn, compile_model
from app.workflow.model import ElementInfo
from tests.conftest import ROOT

CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_DIRS = ("miwg-reference", "miwg-bpmn-io")
TINY = ROOT / "tests" / "bpmn"


def corpus_files() -> list[Path]:
    return sorted(p for d in CORPUS_DIRS if (CORPUS / d).is_dir() for p in (CORPUS / d).iterdir())


def _corpus_params() -> list[object]:
    files = corpus_files()
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no MIWG corpus in {CORPUS}"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in files]


def compile_bpmn(content: bytes, filename: str) -> CompiledBpmn:
    result = compile_model(content, filename)
    assert isinstance(result, CompiledBpmn)
    return result


# -- corpus ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _corpus_params())
def test_compile_model_corpus_compiles_or_names_the_file(path: Path) -> None:
    try:
        result = compile_model(path.read_bytes(), path.name)
    except ModelError as exc:
        # The only exception allowed; it must still say which file is wrong.
        assert path.name in exc.message
        return
    assert isinstance(result, CompiledBpmn)
    errors = result.document.errors
    if errors:
        for issue in errors:
            assert issue.message.startswith(path.name), issue.message
        assert result.specs == {}, "a model with errors must not be runnable"
    else:
        executable = [p.id for p in result.document.processes if p.executable]
        assert executable, "an error-free model has an executable process"
        assert sorted(result.specs) == sorted(executable)


def test_compile_model_corpus_is_present_and_mixed() -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"no MIWG corpus in {CORPUS}")
    outcomes: list[bool] = []
    for path in files:
        try:
            outcomes.append(not compile_bpmn(path.read_bytes(), path.name).document.errors)
        except ModelError:
            outcomes.append(False)
    # Both outcomes occur: the corpus exercises the success path and the error path.
    assert any(outcomes)
    assert not all(outcomes)


# -- credit model metadata ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def review_credit() -> ElementInfo:
    path = ROOT / "bpmn" / "credit_application.bpmn"
    result = compile_bpmn(path.read_bytes(), path.name)
    assert result.document.errors == []
    return result.process("credit_application").elements["review_credit"]


def test_compile_model_keeps_assignment_attributes(review_credit: ElementInfo) -> None:
    assert review_credit.kind == "userTask"
    assert review_credit.attrs["candidateGroups"] == "credit_reviewer"
    assert review_credit.attrs["dueDate"] == "${workdays(2)}"
    assert review_credit.attrs["priority"] == "60"
    assert review_credit.expressions["candidateGroups"] == "'credit_reviewer'"
    assert review_credit.expressions["dueDate"] == "workdays(2)"
    assert review_credit.expressions["priority"] == "'60'"
    assert "assignee" not in review_credit.expressions


def test_compile_model_keeps_form_key_and_documentation(review_credit: ElementInfo) -> None:
    assert review_credit.form_key == "embedded:app:forms/review_credit.html"
    assert review_credit.attrs["formKey"] == review_credit.form_key
    assert review_credit.documentation is not None
    assert review_credit.documentation.startswith("Credit reviewer checks the application")
    lines = (ROOT / "bpmn" / "credit_application.bpmn").read_text().splitlines()
    expected = next(i for i, text in enumerate(lines, 1) if 'id="review_credit"' in text)
    assert review_credit.line == expected


def test_compile_model_keeps_form_fields_constraints_and_enum(review_credit: ElementInfo) -> None:
    fields = {f.id: f for f in review_credit.form}
    assert list(fields) == ["review_decision", "review_comment"]
    decision = fields["review_decision"]
    assert decision.type == "enum"
    assert decision.label == "Review decision"
    assert decision.required is True
    assert decision.constraints == (("required", None),)
    assert decision.enum_values == (
        ("approve", "Approve to risk assessment"),
        ("return", "Return for more material"),
    )
    comment = fields["review_comment"]
    assert comment.type == "string"
    assert comment.required is False
    assert comment.constraints == (("maxlength", "2000"),)
    assert comment.enum_values == ()


def test_compile_model_keeps_properties(review_credit: ElementInfo) -> None:
    assert review_credit.properties == {"four_eyes.exclude_initiator": "true"}


# -- hostile conditions ------------------------------------------------------------------------

GATEWAY = (TINY / "exclusive_gateway.bpmn").read_bytes()
CONDITION = b"${amount &gt; 1000}"


@pytest.mark.parametrize(
    "condition",
    [
        b"${__import__('os').system('id')}",
        b"#{__import__('os').system('id')}",
        b"${().__class__.__bases__}",
        b"${().__class__.__bases__[0].__subclasses__()}",
        b"${amount.__class__.__bases__}",
        b"${amount &gt; 1000 or __import__('os').system('id')}",
        b"${eval('1')}",
        b"${open('/etc/passwd')}",
    ],
)
def test_compile_model_rejects_python_escape_in_condition(condition: bytes) -> None:
    content = GATEWAY.replace(CONDITION, condition)
    assert content != GATEWAY

    result = compile_bpmn(content, "evil.bpmn")

    errors = result.document.errors
    assert [e.element_id for e in errors] == ["flow_check_to_big"]
    message = errors[0].message
    assert message.startswith("evil.bpmn, line 28, element 'flow_check_to_big': condition")
    assert "cannot be translated" in message
    assert result.specs == {}


def test_compile_model_accepts_the_unmodified_condition() -> None:
    result = compile_bpmn(GATEWAY, "exclusive_gateway.bpmn")
    assert result.document.errors == []
    assert list(result.specs) == ["exclusive_gateway"]


def test_compile_model_rejects_script_language_condition() -> None:
    content = GATEWAY.replace(
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">',
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="python">',
    ).replace(CONDITION, b"__import__('os').system('id')")
    assert b'language="python"' in content

    result = compile_bpmn(content, "script_cond.bpmn")

    assert [e.element_id for e in result.document.errors] == ["flow_check_to_big"]
    assert "script conditions (language 'python')" in result.document.errors[0].message
    assert result.specs == {}


# -- crafted XML -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"<definitions><process id='x'></definitions>", "not well-formed"),
        (b"<root xmlns='urn:other'/>", "neither BPMN"),
        (b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', "DOCTYPE"),
    ],
)
def test_compile_model_raises_model_error_naming_file(content: bytes, needle: str) -> None:
    with pytest.raises(ModelError) as caught:
        compile_model(content, "crafted.bpmn")
    assert caught.value.message.startswith("crafted.bpmn")
    assert needle in caught.value.message


def test_compile_model_reports_reserved_id_with_element() -> None:
    content = (TINY / "one_user_task.bpmn").read_bytes().replace(b'"do_work"', b'"End"')
    result = compile_bpmn(content, "reserved.bpmn")
    assert any(
        e.element_id == "End" and "reserved" in e.message and e.message.startswith("reserved.bpmn")
        for e in result.document.errors
    )
    assert result.specs == {}


def test_compile_model_without_process_is_an_error() -> None:
    content = (
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        b'id="d" targetNamespace="urn:x"/>'
    )
    result = compile_bpmn(content, "noprocess.bpmn")
    assert [e.message for e in result.document.errors] == [
        "noprocess.bpmn: the file contains no bpmn:process"
    ]
