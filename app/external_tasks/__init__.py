"""External tasks: work that Camunda-style workers fetch, lock and complete over HTTP."""
