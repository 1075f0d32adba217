"""Alerts: rules over plain facts (`rules`), deduplication (`reconcile`), notifiers (`notifiers`)
and the warehouse side (`store`)."""

from nianbao.alerts.model import (
    AgencyExpectation,
    Alert,
    ReportFacts,
    SiteFacts,
)

__all__ = ["Alert", "AgencyExpectation", "ReportFacts", "SiteFacts"]
