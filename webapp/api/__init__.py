"""The JSON API under /api/v1/: records, cases and tasks for integrations, authenticated by a bearer
token (`credflow api-token USERNAME`), no session cookie. A token acts as its user through the same
services as the web pages, so the same rules hold. Errors are always JSON
`{"error": message, "fields": {...}}`. Described by /api/v1/openapi.json."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import access, approvals, errors, records, tasks  # noqa: E402,F401  -- they register the routes
from . import lookups  # noqa: E402,F401  -- 逢办必查
