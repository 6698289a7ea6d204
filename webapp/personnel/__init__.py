from .routes import bp  # noqa: F401
from . import import_routes  # noqa: E402,F401
