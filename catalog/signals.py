"""Signals the catalog sends for the apps built on it (they connect receivers; the catalog knows none of them).

resources_discovered(sender=DiscoveryRun, run=<DiscoveryRun>)
    An AWS discovery run of one account and region committed new, changed or orphaned Resource entities.
    Sent after the commit, so receivers see the rows (observability syncs newly found sagas at once instead
    of at its next sweep). Not sent when nothing changed, so a steady estate costs its receivers nothing.
"""

from django.dispatch import Signal

resources_discovered = Signal()
