from .routes import bp  # noqa: F401
from . import api  # noqa: F401  (registers the JSON routes the editor uses)
