"""The integrity evaluation routes."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluation", __name__, url_prefix="/evaluations")
