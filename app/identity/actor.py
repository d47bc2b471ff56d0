"""The acting user as use cases see it: an id and group ids, nothing web-specific."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
PROCESS_DESIGNER = "process_designer"


@dataclass(frozen=True)
class OrgScope:
    """The customers an org placement opens besides the user's own: all, or those of units."""

    everything: bool = False
    unit_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Actor:
    user_id: str
    groups: frozenset[str] = field(default_factory=frozenset)
    # Read from the user's org placement at sign-in (app.org.units.scope_of).
    org: OrgScope = field(default_factory=OrgScope)

    def in_group(self, *group_ids: str) -> bool:
        return bool(self.groups.intersection(group_ids))

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.groups


SYSTEM = Actor("system", frozenset({ADMIN}))
