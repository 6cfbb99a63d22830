"""Step Functions sagas: which state machines are sagas, what became of each execution, the sync and alerts."""
