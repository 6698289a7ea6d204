"""One's own account (我的账户): details, password, API tokens, sessions; activation with a one-time
code; the forced choice of a password before anything else (`must_change_password`)."""
from flask import Blueprint, redirect, request, url_for

bp = Blueprint("account", __name__, url_prefix="/account")

# what a user who must first choose a password may still reach
_OPEN_WHILE_FORCED = {"account.set_password", "account.activate", "auth.logout", "auth.login", "static", "health"}


@bp.before_app_request
def _password_first():
    if request.blueprint == "api" or request.endpoint in _OPEN_WHILE_FORCED or request.endpoint is None:
        return None
    from flask_login import current_user
    if current_user.is_authenticated and getattr(current_user, "must_change_password", False):
        return redirect(url_for("account.set_password"))
    return None


from . import routes  # noqa: E402,F401
from . import leave_routes  # noqa: E402,F401
