"""Early warning (监测预警): rules with thresholds (each a setting), the warnings they raise, their
acknowledgement with a note, and the daily digest notification.
"""
