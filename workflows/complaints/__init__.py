"""Complaints (投诉举报): the public's complaints about government dishonesty, from the no-login form
(with its rate limit and challenge) through registration, verification and a leader's outcome to
the reply letter; a founded complaint opens a dishonesty record linked to it. The complainant's
identity is kept apart from the case data and shown only to the staff on the case.
"""
