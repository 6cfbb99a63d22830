"""X-Ray as the portal reads it, computed from the segments clients put (see `sandbox.extensions.xray_graphs`).

- `traces`: what one trace is made of: its service nodes, the calls between them, its summary facts.
- `index`: every trace of one account and region, kept current as segments arrive, with the calls
  of each edge sorted by time so a week-long service graph is a few slices, not a walk over segments.
- `graph`: GetServiceGraph / GetTraceGraph documents from aggregated calls.
- `filters`: the X-Ray filter expression language (a recursive-descent parser, no eval).
- `summaries`: GetTraceSummaries documents, newest first, paged.
"""
