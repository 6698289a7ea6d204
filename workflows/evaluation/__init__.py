"""The yearly integrity evaluation of departments (政务诚信评价): rounds, indicators and weights per
year, the third-party survey scores, computed scores and ranking, departments' objections, the
signed report per department and the published summary.
"""
