"""The reach of a partner: the accounts (and stalls) a partner may see and change, as SQL conditions."""

from __future__ import annotations


def in_reach(account: str, partner: str) -> str:
    """The reach rule, as an SQL condition: the payment account `account` (a table alias) is at one
    of the BINs of the partner whose code is `partner` (an SQL expression), or tagged with its code.

    A partner (its users, API keys, signed events and report imports) creates, changes and sees
    onboardings only of accounts within its reach; every partner path filters with this condition
    and nothing else (docs/partners.md).
    """
    return (
        f"({account}.partner_code = {partner} OR {account}.bin = ANY ("
        f"SELECT unnest(reach_partner.bins) FROM partner reach_partner "
        f"WHERE reach_partner.code = {partner}))"
    )


def stall_in_reach(stall: str, partner: str) -> str:
    """SQL condition: the stall shows an active account within the partner's reach."""
    return (
        f"EXISTS (SELECT 1 FROM payment_account reach_account "
        f"WHERE reach_account.stall_id = {stall} AND reach_account.active "
        f"AND {in_reach('reach_account', partner)})"
    )
