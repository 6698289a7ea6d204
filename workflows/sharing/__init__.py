"""Sharing upward: published records, their changes (objection outcomes, revocations, repairs,
the end of publication) queued for the provincial and national platforms, exported as versioned
batch files (JSON, CSV), acknowledged by imported files, retried when rejected, each with its
3-working-day deadline.
"""
