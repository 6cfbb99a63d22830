"""The audit log's pages, REST API and exports: events filtered, each with its before/after diff."""
