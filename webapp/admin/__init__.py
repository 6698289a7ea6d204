from .routes import bp  # noqa: F401
from . import api  # noqa: F401  (registers the JSON routes the editor uses)
from . import policy_routes  # noqa: F401  (who may take which approval action, per process and task)
