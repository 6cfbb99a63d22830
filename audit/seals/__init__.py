"""The seals over the audit log: the sealer, verification (audit_verify), retention and archives."""
