"""Township public commitments (乡镇政府公开承诺): registered, published, reminded before their
deadline, reviewed for fulfilment at it; a failed commitment opens a dishonesty record
(违约/失信承诺) for the township with the commitment attached.
"""
