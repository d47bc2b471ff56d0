"""Turn model bytes into linted, engine-ready specs, cached by content hash."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import (  # type: ignore[import-untyped]
    ValidationException,
)
from SpiffWorkflow.exceptions import WorkflowException  # type: ignore[import-untyped]

from app.errors import ModelError, NotFoundError
from app.workflow.bpmn_reader import read_bpmn
from app.workflow.camunda_parser import Camunda7Parser
from app.workflow.dmn import DmnError, DmnFile, parse_dmn
from app.workflow.io_mappings import attach as attach_io_mappings
from app.workflow.model import DecisionModel, LintIssue, ModelDocument, ProcessModel
from app.workflow.multi_instance import connect_instances
from app.workflow.xml import DEFAULT_MAX_BYTES, kind_of, parse_xml


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class CompiledBpmn:
    document: ModelDocument
    specs: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)

    def process(self, process_id: str) -> ProcessModel:
        for proc in self.document.processes:
            if proc.id == process_id:
                return proc
        raise NotFoundError(f"process '{process_id}' is not in {self.document.filename}")

    def spec_for(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        if process_id not in self.specs:
            raise NotFoundError(f"process '{process_id}' is not executable")
        return self.specs[process_id]


@dataclass
class CompiledDmn:
    document: ModelDocument
    dmn: DmnFile | None = None


Compiled = CompiledBpmn | CompiledDmn


def compile_model(content: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Compiled:
    """Parse, translate and lint one file. Errors are in `document.issues`, never raised late."""
    root = parse_xml(content, filename=filename, max_bytes=max_bytes)
    kind = kind_of(root)
    if kind == "bpmn":
        return _compile_bpmn(root, filename)
    if kind == "dmn":
        return _compile_dmn(root, filename)
    raise ModelError(
        f"{filename}, line {root.sourceline}: root element <{root.tag}> is neither BPMN 2.0 "
        "definitions nor DMN definitions",
        errors={filename: "not a BPMN or DMN document"},
    )


def _compile_bpmn(root: Any, filename: str) -> CompiledBpmn:
    document, translated = read_bpmn(root, filename=filename)
    compiled = CompiledBpmn(document)
    if document.errors:
        return compiled
    parser = Camunda7Parser()
    try:
        parser.add_bpmn_xml(translated, filename)
        for proc in document.processes:
            if proc.executable:
                # A called process from another file is resolved when an instance is loaded.
                compiled.specs[proc.id] = (
                    parser.get_spec(proc.id),
                    parser.get_subprocess_specs(proc.id, require_call_activity_specs=False),
                )
        elements = {k: v for p in document.processes for k, v in p.elements.items()}
        for spec, subs in compiled.specs.values():
            attach_io_mappings([spec, *subs.values()], elements)
            connect_instances([spec, *subs.values()])
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else None
        element = exc.id or None
        where = filename + (f", line {line}" if line else "")
        where += f", element '{element}'" if element else ""
        document.issues.append(
            LintIssue("error", f"{where}: {exc.args[0] if exc.args else exc}", element, line)
        )
    except WorkflowException as exc:
        document.issues.append(LintIssue("error", f"{filename}: {exc}"))
    except Exception as exc:  # the engine's parser has its own crash paths; never a 500
        document.issues.append(
            LintIssue(
                "error",
                f"{filename}: the engine cannot load this model ({type(exc).__name__}: "
                f"{str(exc)[:200]})",
            )
        )
    return compiled


def _compile_dmn(root: Any, filename: str) -> CompiledDmn:
    document = ModelDocument(filename=filename, kind="dmn")
    try:
        dmn = parse_dmn(root, filename=filename)
    except DmnError as exc:
        document.issues.append(
            LintIssue(
                "error", str(exc), getattr(exc, "element_id", None), getattr(exc, "line", None)
            )
        )
        return CompiledDmn(document)
    document.decisions = [DecisionModel(d.id, d.name) for d in dmn.decisions.values()]
    return CompiledDmn(document, dmn)


class CompiledCache:
    """Process-wide LRU of compiled models keyed by content hash; a request never re-parses."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[str, Compiled] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, digest: str, content: bytes | Callable[[], bytes], filename: str) -> Compiled:
        with self._lock:
            hit = self._items.get(digest)
            if hit is not None:
                self._items.move_to_end(digest)
                return hit
        data = content() if callable(content) else content
        compiled = compile_model(data, filename, max_bytes=max(len(data), 1))
        with self._lock:
            self._items[digest] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled

    def put(self, digest: str, compiled: Compiled) -> None:
        with self._lock:
            self._items[digest] = compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = CompiledCache()
