"""The early-warning routes."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("early_warning", __name__, url_prefix="/warnings")
