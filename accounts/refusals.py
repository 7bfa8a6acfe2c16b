"""The one domain error of the services (HackSoft's ApplicationError is the model): a refusal says
why for the person, and what kind of no it is; views decide how to answer (403, 409, 429, 503)."""

from enum import StrEnum


class Why(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the person may not do this
    CONFLICT = "conflict"  # the state of things refuses it now (already running, not in rescue…)
    TOO_SOON = "too_soon"  # asked again before it may be
    UNAVAILABLE = "unavailable"  # a part the portal needs cannot be reached; nothing was done
    INVALID = "invalid"  # the request itself is not one the page offers (a forged choice)


HTTP_STATUS = {Why.NOT_ALLOWED: 403, Why.CONFLICT: 409, Why.TOO_SOON: 429, Why.UNAVAILABLE: 503, Why.INVALID: 400}


class Refused(Exception):
    def __init__(self, reason: str, why: Why = Why.NOT_ALLOWED, operation=None):
        super().__init__(reason)
        self.reason, self.why, self.operation = reason, why, operation

    @property
    def status(self) -> int:
        """The HTTP status a view answers with."""
        return HTTP_STATUS[self.why]
