"""Settings, all from the environment (see env.py for the list). Import order: base, then integrations."""

from .base import *  # noqa: F403
from .celery import *  # noqa: F403
from .env import WUYE_ENV  # noqa: F401
from .security import *  # noqa: F403
from .sentry import *  # noqa: F403
from .sms import *  # noqa: F403
from .stripe import *  # noqa: F403
from .tenancy import *  # noqa: F403
