"""One open alert per cause: compare what a check finds with what is open."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nianbao.alerts.model import Alert


@dataclass(frozen=True)
class AlertPlan:
    """What a check changes: alerts to open, open ones that still hold, open ones whose cause went."""

    opened: list[Alert] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.opened or self.resolved)


def reconcile(open_keys: Iterable[str], found: Iterable[Alert],
              in_scope: Callable[[str], bool] = lambda key: True) -> AlertPlan:
    """Open what is found and not open; resolve what is open, in scope and no longer found.

    `in_scope` limits resolution to the causes the check looked at (a check of one
    source must not resolve another source's alerts).
    """
    open_set = set(open_keys)
    found_by_key = {alert.key: alert for alert in found}
    return AlertPlan(
        opened=[alert for key, alert in sorted(found_by_key.items()) if key not in open_set],
        still_open=sorted(open_set & found_by_key.keys()),
        resolved=sorted(key for key in open_set - found_by_key.keys() if in_scope(key)),
    )
