"""Errors of the stall registry."""

from core.errors import AppError, Conflict, Invalid, NotFound


class MarketNotFound(NotFound):
    code, title = "market_not_found", "Market not found"


class StallNotFound(NotFound):
    code, title = "stall_not_found", "Stall not found"


class NoticeNotFound(NotFound):
    code, title = "notice_not_found", "No consent notice of this version"


class StallCodeTaken(Conflict):
    code, title = "stall_code_taken", "This stall code is already registered in this market"


class PossibleDuplicate(Conflict):
    code, title = "possible_duplicate", "A stall with this phone number is already registered here"


class AccountExists(Conflict):
    code, title = "account_exists", "This payment account is already on the stall"


class IdempotencyKeyReused(Invalid):
    code, title = "idempotency_key_reused", "This Idempotency-Key was used for a different request"


class IdempotencyKeyMissing(AppError):
    status, code, title = 400, "idempotency_key_required", "Send an Idempotency-Key header"


class UnknownWard(Invalid):
    code, title = "unknown_ward", "Unknown ward code"


class ConsentRequired(Invalid):
    code, title = "consent_required", "The stallholder must consent to registration"
