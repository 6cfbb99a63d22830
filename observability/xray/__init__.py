"""X-Ray: service maps of the estate, systems and teams, traces, and declared vs observed dependencies."""
