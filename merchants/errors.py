"""Errors of the stall registry."""

from core.errors import AppError, Conflict, FileRefused, Forbidden, Invalid, NotFound
from core.errors import MarketNotFound as MarketNotFound  # shared with the domains below
from core.errors import StallNotFound as StallNotFound


class StallCodeTaken(Conflict):
    code, title = "stall_code_taken", "This stall code is already registered in this market"


class PossibleDuplicate(Conflict):
    code, title = "possible_duplicate", "A stall with this phone number is already registered here"


class AccountInUse(Conflict):
    code, title = "account_in_use", "Another stall of this market receives payments on this account"


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


class NoPaymentAccount(AppError):
    status, code, title = 409, "no_payment_account", "The stall has no payment account yet"


class NothingToPrint(AppError):
    status, code, title = 409, "nothing_to_print", "There is no sign to print"


class PrintJobNotFound(NotFound):
    code, title = "print_job_not_found", "Print job not found"


class WardOutOfScope(Forbidden):
    code, title = "ward_out_of_scope", "The ward is outside the markets you manage"


class MarketNameTaken(Conflict):
    code, title = "market_name_taken", "The ward already has a market with this name"


class MarketArchived(Conflict):
    code, title = "market_archived", "The market is archived"


class UnknownZone(Invalid):
    code, title = "unknown_zone", "The market has no such zone"


class ZoneRetired(Invalid):
    code, title = "zone_retired", "The zone is retired: it takes no new stalls"


class ZoneTaken(Conflict):
    code, title = "zone_taken", "The market already has a zone with this name"


class DuplicateZone(Invalid):
    code, title = "duplicate_zone", "A zone is listed twice"


class AccountInactive(Conflict):
    code, title = "account_inactive", "The payment account is deactivated"


class AccountNotFound(NotFound):
    code, title = "payment_account_not_found", "No such payment account on this stall"


# Stall list imports: the file itself (its rows' problems are answered row by row, not as errors).
class ImportFileRefused(FileRefused):
    """A file that cannot be read as a stall list (core.errors.FileRefused)."""

    code, title = "import_file_refused", "The file cannot be read as a stall list"


class ImportColumnsMissing(Invalid):
    code, title = "missing_columns", "The file lacks columns a stall list needs"


class ImportColumnRepeated(Invalid):
    code, title = "duplicate_column", "Two columns of the file hold the same field"


class ImportFileMissing(Invalid):
    code, title = "file_missing", "Send the stall list as the multipart field `file`"


class ImportConflict(Conflict):
    code, title = "import_conflict", "The market's stalls changed during the import"


class InvalidListDate(Invalid):
    code, title = "invalid_list_date", "The list date is not a day"


class InvalidVisitedAt(Invalid):
    code, title = "invalid_visited_at", "The visit's time is out of range"


class InvalidComeBackOn(Invalid):
    code, title = "invalid_come_back_on", "The day to come back is out of range"


class SignChanged(Conflict):
    code, title = (
        "sign_changed",
        "The account on this sign changed after it was opened: print it again",
    )


class SupportChanged(Conflict):
    code, title = "support_changed", "Someone changed these items of the support package meanwhile"


class LicenceNotAsked(Invalid):
    code, title = "licence_not_asked", "This market does not record business licence numbers"
