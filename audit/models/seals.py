"""The seals over the audit events (audit/seals/): filled in with the sealer."""
