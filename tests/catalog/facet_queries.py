"""How many queries the facets take: one GROUP BY per facet, except that on PostgreSQL the facets counted
over the same rows (those without a filter of their own) share one GROUP BY GROUPING SETS query."""

from django.db import connection

from catalog.selectors import FACETS


def facet_queries(*filtered: str) -> int:
    shared = [facet for facet in FACETS if facet != "tag" and facet not in filtered]
    if connection.vendor == "postgresql" and len(shared) > 1:
        return len(FACETS) - len(shared) + 1
    return len(FACETS)
