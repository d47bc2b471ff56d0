"""The MIWG reference models through both deploy endpoints: a success or a 4xx naming the file."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import ROOT, STAFF
from tests.engine_rest.conftest import modeler_deploy

CORPUS = ROOT.parent / "shared" / "corpus"
FOLDERS = ("miwg-reference", "miwg-bpmn-io")
# Generous for a 2-core machine shared with other work; the Modeler gives up after 5 s.
SECONDS = 5.0


def _files() -> list[object]:
    found = [
        path
        for folder in FOLDERS
        if (CORPUS / folder).is_dir()
        for path in sorted((CORPUS / folder).glob("*.bpmn"))
    ]
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no MIWG corpus in {CORPUS}"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in found]


def test_both_folders_are_complete_and_both_outcomes_occur(rest: FlaskClient) -> None:
    for folder in FOLDERS:
        if not (CORPUS / folder).is_dir():
            pytest.skip(f"no MIWG corpus in {CORPUS}")
        assert len(list((CORPUS / folder).glob("*.bpmn"))) == 21, folder
    # Successes and rejections both occur, so both branches below are exercised.
    outcomes = {
        modeler_deploy(rest, (p.name, p.read_bytes()), name=p.stem).status_code
        for folder in FOLDERS
        for p in (CORPUS / folder).glob("*.bpmn")
    }
    assert outcomes == {200, 400}


@pytest.mark.parametrize("path", _files())
def test_native_deploy_answers_success_or_names_the_file(rest: FlaskClient, path: Path) -> None:
    began = time.monotonic()
    response = rest.post(
        "/api/v1/deployments",
        data={"file": (io.BytesIO(path.read_bytes()), path.name)},
        headers=STAFF["designer"],
        content_type="multipart/form-data",
    )
    assert time.monotonic() - began < SECONDS
    body = response.get_json()
    assert response.status_code in (200, 201, 422), body
    if response.status_code == 422:
        assert path.name in body["detail"], body
        assert set(body["errors"]) == {path.name}
        for message in body["errors"][path.name]:
            assert message.startswith(path.name), message


@pytest.mark.parametrize("path", _files())
def test_engine_rest_deploy_answers_success_or_names_the_file(
    rest: FlaskClient, path: Path
) -> None:
    began = time.monotonic()
    response = modeler_deploy(rest, (path.name, path.read_bytes()), name=path.stem)
    assert time.monotonic() - began < SECONDS
    body = response.get_json()
    assert response.status_code in (200, 400), body
    if response.status_code == 400:
        assert body["type"] == "ParseException"
        assert body["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
        assert path.name in body["message"]
        problems = body["details"][path.name]["errors"]
        assert problems
        for problem in problems:
            assert problem["message"].startswith(path.name), problem
    else:
        assert body["deployedProcessDefinitions"], body
