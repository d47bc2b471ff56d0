"""Service-task code bound by name from BPMN; plain variables in, variables out."""
