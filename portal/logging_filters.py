"""Log filters for LOGGING (portal/settings.py)."""

import logging


class NoTracebackForClientErrors(logging.Filter):
    """Django logs a refused request (403, 404...) with the exception's traceback; a refusal is not a fault
    in the portal, so it is one warning line. 5xx records keep theirs: those are the ones to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
