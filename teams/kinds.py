"""The one mapping from audit-log entries to kinds of field activity.

Activity is read from what every use case already writes: the audit log (who, what, which record,
when). Nothing is added to the registration's hot path. An entry counts when its (action, entity)
pair is listed here and it has an actor; an action may count for several kinds (a failed
verification is a verification and flags a return visit).

A wrong code found (`return_visits`: the stall is flagged for a return visit) is a failed
verification (`verify_failed`) of a stall whose previous verification entry was not one: the same
wrong sign scanned again is not found again. One fixed (`codes_fixed`) is a successful
verification (`verify`) of a stall whose previous verification entry was a failure. Both are
derived in SQL (queries.py), not listed here, since they depend on the entry before.

An account corrected or deactivated (merchants/accounts.py, with a reason) counts as account
work, as an account added does. `sign_printed` is no longer written (prints are confirmed now: `print_confirmed`); it stays for
the entries databases already hold.
"""

from __future__ import annotations

KINDS = (
    "registrations",
    "edits",
    "accounts",
    "consents",
    "prints",
    "deliveries",
    "verifications",
    "return_visits",
    "codes_fixed",
    "visits",
    "support",
    "assignments",
)

# (audit action, audit entity) -> the kinds of activity it counts as.
ACTIVITY: dict[tuple[str, str], tuple[str, ...]] = {
    # merchants/queries/registration.py _REGISTER_ENTRY; a registration records the stallholder's
    # consent and the accounts typed with it: those count as the registration, not again.
    ("register", "stall"): ("registrations",),
    # merchants/stalls.py update_stall; coverage/stalls.py fees_cashless_for
    ("update", "stall"): ("edits",),
    ("fees_cashless", "stall"): ("edits",),
    # merchants/accounts.py: an account added, corrected, deactivated or reactivated
    ("add_payment_account", "stall"): ("accounts",),
    ("correct_payment_account", "stall"): ("accounts",),
    ("deactivate_payment_account", "stall"): ("accounts",),
    ("reactivate_payment_account", "stall"): ("accounts",),
    # privacy/consent.py: consent recorded (or withdrawn) after the registration
    ("grant_consent", "stallholder"): ("consents",),
    ("withdraw_consent", "stallholder"): ("consents",),
    # merchants/signs.py: a print confirmed (one sign, or a print job's); sign_printed: older entries
    ("sign_printed", "stall"): ("prints",),
    ("print_confirmed", "stall"): ("prints",),
    # coverage/stalls.py sign_delivered_for
    ("sign_delivered", "stall"): ("deliveries",),
    # coverage/verify.py: the sign's code scanned (a bank's name match is left out, see below)
    ("verify", "stall"): ("verifications",),
    ("verify_failed", "stall"): ("verifications",),
    # merchants/visits.py: a visit recorded (nobody there, not now, come back, blocked, trained...)
    ("visit", "stall"): ("visits",),
    # merchants/support.py: the support package recorded at a stall (one entry per save)
    ("support", "stall"): ("support",),
    # teams/assignments.py: a return visit of a stall given to someone (a team leader's or a
    # manager's work); taking it back (`unassign`) is not counted
    ("assign", "stall"): ("assignments",),
}

# A `verify` entry whose method is one of these was the bank confirming an account's name (partners'
# lookup), not a code checked at the stall: it is not field work.
NOT_FIELD_METHODS = ("name_match",)

# Entities whose market is known (queries.py reads it from the stall, holder or account).
ENTITIES = ("stall", "stallholder", "payment_account")


def mapping_rows() -> tuple[list[str], list[str], list[str]]:
    """The mapping as three parallel lists (action, entity, kind), one row per kind."""
    actions, entities, kinds = [], [], []
    for (action, entity), counted in sorted(ACTIVITY.items()):
        for kind in counted:
            assert kind in KINDS and entity in ENTITIES, (action, entity, kind)
            actions.append(action)
            entities.append(entity)
            kinds.append(kind)
    return actions, entities, kinds
