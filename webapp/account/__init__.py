"""One's own account: password, API tokens, sessions; activation with a one-time code."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import routes  # noqa: E402,F401
