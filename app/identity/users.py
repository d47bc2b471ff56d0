"""Use cases on users and groups, and the demo staff seeded by `flask seed-demo`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidInputError, PermissionDeniedError
from app.identity.actor import Actor
from app.identity.credentials import hash_password
from app.identity.models import Group, User

GROUPS: dict[str, str] = {
    "relationship_manager": "Relationship managers (客户经理)",
    "credit_reviewer": "Credit reviewers (授信审查岗)",
    "risk_officer": "Risk officers (风险管理)",
    "branch_manager": "Branch managers (支行行长)",
    "head_office_credit": "Head-office credit approval (总行授信审批)",
    "credit_committee": "Credit committee (贷审会)",
    "process_designer": "Process designers",
    "admin": "Administrators",
    # SLA escalations go to the candidate group's lead ("<group>_lead") and to supervisors.
    "credit_reviewer_lead": "Credit review team lead (审查组长)",
    "supervisor": "Supervisors (SLA escalations)",
    "relationship_manager_lead": "RM team leads (对公团队长)",
    # Core systems calling the customer sync API and following the change feed.
    "core_system": "Core systems (customer sync)",
    # Camunda external-task workers and message senders on /engine-rest.
    "external_worker": "External-task workers",
}

# (user id, display name, groups, password) — demo credentials, printed by seed-demo.
DEMO_STAFF: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("rm_li", "李明 (RM)", ("relationship_manager",), "rm-pass"),
    ("reviewer_wang", "王芳 (credit reviewer)", ("credit_reviewer",), "reviewer-pass"),
    ("risk_zhao", "赵强 (risk officer)", ("risk_officer",), "risk-pass"),
    ("branch_chen", "陈静 (branch manager)", ("branch_manager",), "branch-pass"),
    ("hq_liu", "刘洋 (head-office credit)", ("head_office_credit",), "hq-pass"),
    ("committee_sun", "孙伟 (credit committee)", ("credit_committee",), "committee-pass"),
    ("designer_zhou", "周婷 (process designer)", ("process_designer",), "designer-pass"),
    ("admin", "Administrator", ("admin", "process_designer"), "admin-pass"),
    ("review_lead_he", "何军 (review team lead)", ("credit_reviewer_lead",), "lead-pass"),
    ("supervisor_qian", "钱红 (supervisor)", ("supervisor",), "supervisor-pass"),
    ("rm_wu", "吴磊 (RM, 浦东二组)", ("relationship_manager",), "rm-pass"),
    ("rm_ma", "马丽 (RM, 北京朝阳)", ("relationship_manager",), "rm-pass"),
    ("lead_zhang", "张华 (RM team lead)", ("relationship_manager_lead",), "lead-pass"),
    ("ecif", "ECIF core system", ("core_system",), "ecif-pass"),
    ("worker_bot", "External-task worker", ("external_worker",), "worker-pass"),
)
DEMO_MAIL_DOMAIN = "bank.example"


def ensure_group(session: Session, group_id: str, name: str | None = None) -> Group:
    group = session.get(Group, group_id)
    if group is None:
        group = Group(id=group_id, name=name or group_id)
        session.add(group)
        session.flush()
    return group


def create_user(
    session: Session,
    actor: Actor,
    user_id: str,
    password: str,
    display_name: str,
    groups: list[str] | tuple[str, ...] = (),
    email: str | None = None,
) -> User:
    if not actor.is_admin:
        raise PermissionDeniedError("only administrators may create users")
    errors: dict[str, str] = {}
    if not user_id or len(user_id) > 64:
        errors["id"] = "must be 1-64 characters"
    if len(password) < 8:
        errors["password"] = "must be at least 8 characters"  # noqa: S105
    if errors:
        raise InvalidInputError("invalid user", errors=errors)
    if session.get(User, user_id) is not None:
        raise ConflictError(f"user '{user_id}' already exists")
    user = User(
        id=user_id, display_name=display_name, email=email, password_hash=hash_password(password)
    )
    user.groups = [ensure_group(session, g, GROUPS.get(g)) for g in groups]
    session.add(user)
    session.flush()
    return user


def seed_demo_staff(session: Session) -> list[tuple[str, str, tuple[str, ...], str]]:
    """Create the demo staff and the demo org tree they sit in once; return the staff."""
    from app.org.demo import seed_demo_tree

    for gid, name in GROUPS.items():
        ensure_group(session, gid, name)
    for user_id, display, groups, password in DEMO_STAFF:
        if session.get(User, user_id) is None:
            user = User(
                id=user_id,
                display_name=display,
                email=f"{user_id}@{DEMO_MAIL_DOMAIN}",
                password_hash=hash_password(password),
            )
            user.groups = [ensure_group(session, g) for g in groups]
            session.add(user)
    session.flush()
    seed_demo_tree(session)
    return list(DEMO_STAFF)
