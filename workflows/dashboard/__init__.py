"""The office's monitoring dashboard: the figures behind its charts (records by department, field,
severity and month; open cases and overdue steps; objections and repairs with their outcomes; time
from capture to decision), each with the filters on screen and the list it stands for.
"""
