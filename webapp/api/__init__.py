"""The JSON API under /api/v1/: bearer tokens (`credflow api-token USERNAME`), no session cookie,
errors always as JSON `{"error": message, "fields": {...}}`. Described by /api/v1/openapi.json."""
from .routes import bp  # noqa: F401
