"""A stall's history: what was done to it, when, by whom and why, read from the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from core import access, audit
from core.text import mask_numbers
from core.types import User
from merchants import schemas, stalls
from merchants.queries import history as history_q

audit.name_records(history_q.AUDIT_NAMES)

# (field, where the audit view of a stall keeps it); merchants.stalls.audit_view and
# merchants.imports' audit view write these keys.
_STALL_FIELDS = (
    ("stall_code", ("stall_code",)),
    ("zone", ("zone",)),
    ("goods", ("goods",)),
    ("status", ("status",)),
    ("confirm_by", ("confirm_by",)),
    ("also_accepts", ("also_accepts",)),
    ("licence_no", ("licence_no",)),
    ("holder_name", ("holder", "full_name")),
    ("holder_phone", ("holder", "phone")),
)
_ACCOUNT_FIELDS = (
    ("account_bin", "bin"),
    ("account_number", "account_number"),
    ("account_name", "account_name"),
    ("account_reference", "reference"),
)
# What a printed sign shows besides its code, and what of its account (merchants.signs).
SIGN_FIELDS = frozenset({"stall_code", "zone", "goods", "holder_name"})
ACCOUNT_FIELDS = frozenset(field for field, _ in _ACCOUNT_FIELDS)
# Actions whose entry carries a reason the person typed.
_WITH_REASON = (
    "correct_payment_account",
    "deactivate_payment_account",
    "reactivate_payment_account",
)


async def stall_history_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, route: str, limit: int
) -> list[schemas.HistoryEntry]:
    """The stall's history in scope, newest first; the read of the person's data is logged (the
    entries hold their name and masked phone)."""
    stall = await stalls.stall_in_scope(conn, user, stall_id)
    await access.log_access(
        conn, user=user, stallholder_id=stall.holder.id, route=route, reason="stall_history"
    )
    return [entry(e) for e in await history_q.stall_entries(conn, stall_id, limit=limit)]


async def fields_changed_since(
    conn: asyncpg.Connection, stall_id: int, since: datetime
) -> set[str]:
    """Every field the stall's entries after `since` changed (HistoryChange.field)."""
    entries = await history_q.stall_entries(conn, stall_id, limit=None, since=since)
    return {change.field for e in entries for change in entry(e).changes}


def entry(e: history_q.Entry) -> schemas.HistoryEntry:
    """One audit entry as the history shows it."""
    before = e.before if isinstance(e.before, dict) else {}
    after = e.after if isinstance(e.after, dict) else {}
    changes = _stall_changes(before, after) if before and after else []
    old, new = _accounts_of(e.action, before, after)
    if old is not None and new is not None:
        changes += _account_changes(old, new)
    if e.action == "fees_cashless" and "fees_cashless" in after:
        changes.append(
            schemas.HistoryChange(
                field="fees_cashless", before=None, after=_text(after["fees_cashless"])
            )
        )
    shown = new if new is not None else old
    detail = after.get("method") if e.action == "verify" else None
    if e.action == "verify_failed":
        detail = after.get("reason")
    if e.action == "visit":
        detail = after.get("outcome")
    if e.action in ("revisit_flagged", "revisit_cleared"):
        detail = after.get("reason")
    if e.action == "support":  # each item as it was and as it became (null: no record)
        was, now = before.get("support"), after.get("support")
        was = was if isinstance(was, dict) else {}
        now = now if isinstance(now, dict) else {}
        changes += [
            schemas.HistoryChange(
                field=f"support_{item}",  # type: ignore[arg-type]
                before=_text(was.get(item)),
                after=_text(now.get(item)),
            )
            for item in schemas.SUPPORT_ITEMS
            if item in now
        ]
    reason = _masked_reason(after.get("reason")) if e.action in _WITH_REASON else None
    return schemas.HistoryEntry(
        at=e.at,
        action=e.action,
        actor=e.actor,
        reason=reason,
        detail=_text(detail),
        account=schemas.HistoryAccount(
            bin=_text(shown.get("bin")),
            account_number=_text(shown.get("account_number")),
            account_name=_text(shown.get("account_name")),
        )
        if shown
        else None,
        changes=changes,
    )


def _at(view: dict, path: tuple[str, ...]) -> Any:
    value: Any = view
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _masked_reason(value: Any) -> str | None:
    """A typed reason with any phone or account number in it cut to its last 4, as everywhere in
    the history."""
    text = _text(value)
    return None if text is None else mask_numbers(text)


def _masked_field(field: str, value: Any) -> str | None:
    """A value as the history shows it: a MoMo reference to its last 4, like account numbers; a
    phone an early build stored as an unkeyed hash is left out (it could be guessed back)."""
    text = _text(value)
    if text is None or text == "[erased]":
        return text
    if field == "account_reference":
        return "…" + text[-4:]
    if field == "holder_phone" and text.startswith("sha256:"):
        return None
    return text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):  # confirm_by, also_accepts: codes, or "none" (asked: none)
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stall_changes(before: dict, after: dict) -> list[schemas.HistoryChange]:
    return [
        schemas.HistoryChange(
            field=field,  # type: ignore[arg-type]
            before=_masked_field(field, old),
            after=_masked_field(field, new),
        )
        for field, path in _STALL_FIELDS
        if _has(after, path) and (old := _at(before, path)) != (new := _at(after, path))
    ]


def _has(view: dict, path: tuple[str, ...]) -> bool:
    parent = _at(view, path[:-1]) if len(path) > 1 else view
    return isinstance(parent, dict) and path[-1] in parent


def _accounts_of(action: str, before: dict, after: dict) -> tuple[dict | None, dict | None]:
    """The account an entry is about, before and after it: by id when the entry names one, the
    first account of an import's row (one account a row), else none."""
    if "payment_account_id" in after:
        wanted = after["payment_account_id"]
        return _account_by_id(before, wanted), _account_by_id(after, wanted)
    if action == "import":
        return _first_account(before), _first_account(after)
    return None, None


def _account_by_id(view: dict, account_id: Any) -> dict | None:
    for account in view.get("payment_accounts") or []:
        if isinstance(account, dict) and account.get("id") == account_id:
            return account
    return None


def _first_account(view: dict) -> dict | None:
    accounts = view.get("payment_accounts") or []
    return accounts[0] if accounts and isinstance(accounts[0], dict) else None


def _account_changes(old: dict, new: dict) -> list[schemas.HistoryChange]:
    return [
        schemas.HistoryChange(
            field=field,  # type: ignore[arg-type]
            before=_masked_field(field, old.get(key)),
            after=_masked_field(field, new.get(key)),
        )
        for field, key in _ACCOUNT_FIELDS
        if old.get(key) != new.get(key)
    ]
