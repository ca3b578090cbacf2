"""Errors of the partner registry, onboardings, partner events and imports."""

from core.errors import AppError, Conflict, FileRefused, Invalid, NotFound


class PartnerNotFound(NotFound):
    code, title = "partner_not_found", "Partner not found"


class EndpointDisabled(NotFound):
    code, title = "endpoint_disabled", "This partner endpoint is not enabled"


class UnknownPartner(Invalid):
    code, title = "unknown_partner", "Unknown partner code"


class UnknownCredential(Invalid):
    code, title = "unknown_credential", "This partner has no such credential field"


class MissingCredential(Invalid):
    code, title = "missing_credential", "A credential field of this scheme is missing"


class InvalidSignature(AppError):
    status, code, title = 401, "invalid_signature", "The signature does not match"


class StaleSignature(InvalidSignature):
    code, title = "stale_signature", "The signature timestamp is too far from our clock"


class InvalidEvent(Invalid):
    code, title = "invalid_event", "The event is malformed"


class UnknownAccount(Invalid):
    code, title = "unknown_account", "No such payment account"


class AmbiguousAccount(Invalid):
    code, title = "ambiguous_account", "Several payment accounts match"


class EventConflict(Conflict):
    code, title = "event_conflict", "This id was already received with different content"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "This status change is not allowed"


class OnboardingNotFound(NotFound):
    code, title = "onboarding_not_found", "Onboarding not found"


class CsvMalformed(Invalid):
    code, title = "malformed_csv", "The file is not a readable CSV report"


class ReportFileRefused(FileRefused):
    """An Excel report that cannot be read (core.errors.FileRefused)."""

    code, title = "report_file_refused", "The file cannot be read as a partner report"


class FileMissing(AppError):
    status, code, title = 422, "file_required", "Send the report as a multipart field named 'file'"


class ServicePointNotFound(NotFound):
    code, title = "service_point_not_found", "Service point not found"


class MarketArchived(Conflict):
    code, title = "market_archived", "The market is archived"


class UnknownMarket(Invalid):
    code, title = "unknown_market", "Unknown market"
