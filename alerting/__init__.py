"""Alerting: red flags now (``alerting.flags``); the notification engine arrives with the alerting issue."""
