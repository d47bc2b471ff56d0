"""Import every model module so Base.metadata knows all tables (Alembic, create_all)."""

from app.customers import models as customers_models
from app.deployments import models as deployments_models
from app.identity import models as identity_models
from app.instances import models as instances_models
from app.notifications import models as notifications_models
from app.org import models as org_models
from app.tasks import models as tasks_models
from app.workdays import models as workdays_models

__all__ = [
    "customers_models",
    "deployments_models",
    "identity_models",
    "instances_models",
    "notifications_models",
    "org_models",
    "tasks_models",
    "workdays_models",
]
