"""Errors of consent and data-subject rights."""

from core.errors import Conflict, Invalid, NotFound


class StallholderNotFound(NotFound):
    code, title = "stallholder_not_found", "Stallholder not found"


class StallholderErased(Conflict):
    code, title = "stallholder_erased", "This person's data has been erased"


class UnknownPartner(Invalid):
    code, title = "unknown_partner", "Unknown partner code"


class NoPurpose(Invalid):
    code, title = "no_purpose", "Tick at least one purpose"


class ConsentWithdrawn(Conflict):
    code, title = "consent_withdrawn", "The stallholder withdrew consent for this purpose"


class ConsentMissing(Conflict):
    code, title = "consent_missing", "The stallholder has not consented to this purpose"


class NoticeNotFound(NotFound):
    code, title = "notice_not_found", "No consent notice of this version"
