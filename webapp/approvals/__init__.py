"""The approval actions (审批操作) in the browser: the action routes and 抄送我的 (routes.py), and what
the task, case and inbox pages show of them (panel.py). The rules are workflows/approvals'."""
from .routes import bp  # noqa: F401
