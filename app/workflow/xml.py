"""Safe XML loading for uploaded models: no entities, no DTDs, no network, bounded size."""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.errors import ModelError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # resolve_entities=False keeps XXE payloads inert, load_dtd=False and no_network=True stop
    # external fetches, huge_tree=False keeps libxml2's own limits against billion-laughs blowups.
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(
    content: bytes, *, filename: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._Element:
    """Parse uploaded model bytes safely, or raise ModelError naming the file and line."""
    if len(content) > max_bytes:
        raise ModelError(
            f"{filename}: file is {len(content)} bytes, larger than the limit of {max_bytes} bytes",
            errors={filename: "file too large"},
            filename=filename,
        )
    if not content.strip():
        raise ModelError(f"{filename}: file is empty", errors={filename: "empty file"})
    # A DOCTYPE has no business in a BPMN/DMN file and is how entity attacks arrive: refuse it.
    head = content[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in content.lower():
        raise ModelError(
            f"{filename}: DOCTYPE and ENTITY declarations are not allowed in models",
            errors={filename: "DOCTYPE/ENTITY declarations are not allowed"},
            filename=filename,
        )
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise ModelError(
            f"{filename}, line {line}: not well-formed XML: {exc.msg}",
            errors={filename: f"line {line}: {exc.msg}"},
            filename=filename,
            line=line,
        ) from None
    # The byte check above misses other encodings (UTF-16): ask the parser what it saw.
    docinfo: Any = root.getroottree().docinfo
    if (
        docinfo.doctype
        or docinfo.internalDTD is not None
        or any(isinstance(node, etree._Entity) for node in root.iter())
    ):
        raise ModelError(
            f"{filename}: DOCTYPE and ENTITY declarations are not allowed in models",
            errors={filename: "DOCTYPE/ENTITY declarations are not allowed"},
            filename=filename,
        )
    return root


def kind_of(root: etree._Element) -> str:
    """Return 'bpmn' or 'dmn' from the root element's namespace, else ''."""
    ns = etree.QName(root).namespace or ""
    if ns == BPMN_NS:
        return "bpmn"
    if ns in DMN_NAMESPACES:
        return "dmn"
    return ""
