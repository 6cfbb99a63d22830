"""Signals the catalog sends for the apps built on it (they connect receivers; the catalog knows none of them).

resources_discovered(sender=DiscoveryRun, run=<DiscoveryRun>)
    An AWS discovery run of one account and region committed new, changed or orphaned Resource entities.
    Sent after the commit, so receivers see the rows (observability syncs newly found sagas at once instead
    of at its next sweep). Not sent when nothing changed, so a steady estate costs its receivers nothing.


entities_applied(sender=Location, location=<Location>, refs=<list of "kind:namespace/name">)
    An apply of one location (an import of a file, URL or upload, or an AWS discovery run) committed new,
    changed or orphaned entities: their refs. Sent after the commit; not sent when nothing changed. The
    catalog's own scorecards rescore them at once (catalog.tasks.scorecards_rescore).
"""

from django.dispatch import Signal

resources_discovered = Signal()
entities_applied = Signal()
