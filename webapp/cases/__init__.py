from .routes import bp  # noqa: F401
from . import import_routes  # noqa: F401,E402  (bulk import of records: import_routes.py)
from . import list_routes  # noqa: F401,E402  (the case list: list_routes.py)
