"""Errors of coverage: verification of a stall's sign, areas of the drill-down reads."""

from core.errors import Conflict, Invalid, NotFound


class QrMismatch(Invalid):
    code, title = "qr_mismatch", "The scanned code does not match a stored account of this stall"


class NoQrFound(Invalid):
    code, title = "no_qr_found", "No QR code was found in the image"


class EffectiveDatePast(Invalid):
    code, title = "effective_date_past", "A rule version cannot apply from a day that is over"


class WardNotFound(NotFound):
    code, title = "ward_not_found", "No ward, commune or special zone with this code"


class WardNotInProvince(Invalid):
    code, title = "ward_not_in_province", "The ward is not in the province asked for"


class EffectiveDateTooFar(Invalid):
    code, title = "effective_date_too_far", "A rule version is scheduled at most two years ahead"


class RuleVersionNotFound(NotFound):
    code, title = "rule_version_not_found", "No rule version with this number"


class RuleVersionApplied(Conflict):
    code, title = (
        "rule_version_applied",
        "This rule version was applied: it can no longer be withdrawn",
    )
