"""Import every model module so Base.metadata knows all tables (Alembic, create_all)."""

from app.customers import models as customers_models
from app.deployments import models as deployments_models
from app.external_tasks import models as external_tasks_models
from app.identity import models as identity_models
from app.imports import models as imports_models
from app.instances import models as instances_models
from app.lending import models as lending_models
from app.messages import models as messages_models
from app.notifications import models as notifications_models
from app.org import models as org_models
from app.people import models as people_models
from app.relations import models as relations_models
from app.servicing import models as servicing_models
from app.tasks import models as tasks_models
from app.workdays import models as workdays_models

__all__ = [
    "customers_models",
    "deployments_models",
    "external_tasks_models",
    "identity_models",
    "imports_models",
    "instances_models",
    "lending_models",
    "messages_models",
    "notifications_models",
    "org_models",
    "people_models",
    "relations_models",
    "servicing_models",
    "tasks_models",
    "workdays_models",
]
