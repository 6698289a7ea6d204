"""Bulk import of dishonesty records from an .xlsx template: every row checked, all or none, each
imported record starting its lifecycle case; run as a background import job (workflows/import_jobs).
"""
