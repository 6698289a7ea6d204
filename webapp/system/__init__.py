"""System administration (系统管理), for the `admin` role: the working-day calendar, accounts and
the e-mail outbox."""
from flask import Blueprint

bp = Blueprint("system", __name__, url_prefix="/system")

from . import calendar_routes, user_routes  # noqa: E402,F401
from . import outbox_routes  # noqa: E402,F401
