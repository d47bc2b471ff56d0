"""Data stores are documentation in Camunda 7: the engine's copy loses them, with a warning."""

from __future__ import annotations

from lxml import etree

from app.workflow.io_mappings import Linter
from app.workflow.xml import BPMN_NS

B = f"{{{BPMN_NS}}}"


def drop_data_stores(lint: Linter, process: etree._Element) -> None:
    """Remove data store references and their associations from `process` (a translated copy).

    Camunda 7 never reads or writes a data store; the engine would refuse the model because no
    store implementation is registered for it.
    """
    definitions = process.getparent()
    if definitions is not None:
        for store in definitions.findall(f"{B}dataStore"):
            definitions.remove(store)  # the engine wants an implementation for every store
    refs = {r.get("id"): r for r in process.iter(f"{B}dataStoreReference")}
    for tag in ("dataInputAssociation", "dataOutputAssociation"):
        for assoc in list(process.iter(f"{B}{tag}")):
            ends = {
                (end.text or "").strip()
                for end in assoc
                if end.tag in (f"{B}sourceRef", f"{B}targetRef")
            }
            if ends & set(refs):
                owner = assoc.getparent()
                if owner is not None:
                    owner.remove(assoc)
    for ref_id, ref in refs.items():
        lint.issue(
            "warning",
            f"data store reference '{ref.get('name') or ref_id}' is documentation only; "
            "corpflow neither reads nor writes it",
            ref,
        )
        parent = ref.getparent()
        if parent is not None:
            parent.remove(ref)
