"""The task list: human tasks, claims and completions."""
