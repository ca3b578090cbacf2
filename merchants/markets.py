"""Markets: create, read and list them within the caller's scope; correct, archive, manage zones.

Zones: `market.zones` is the list of current zones (display order), `retired_zones` the zones that
take no new stalls (their stalls keep them until moved). A stall's zone must be a current zone of
its market when it is registered or moved (422 unknown_zone, or zone_retired); a market that
declares no zones at all (neither current nor retired) accepts any zone name. Renaming a zone
renames it on the market's stalls and in what the coverage counters hold for them, in the same
transaction.

Concurrency: an edit, an archive and a zone change lock the market row FOR UPDATE first; a
registration or a stall's move to another zone reads the market FOR KEY SHARE, which waits for
them, so no stall is written with a zone (or into a market) that the edit just took away.
"""

from __future__ import annotations

import dataclasses
import logging

import asyncpg

from admin_units import service as admin_units
from core import access, audit
from core.errors import Forbidden, PreconditionFailed
from core.text import normalize
from core.types import User
from coverage import counters
from merchants import errors, schemas
from merchants.queries import markets as markets_q

log = logging.getLogger("choso.merchants")


def zone_key(zone: str) -> str:
    """Zone names are unique per market regardless of case: 'khu a' and 'Khu A' are one zone."""
    return normalize(zone).casefold()


async def create_market(
    conn: asyncpg.Connection, *, user: User, body: schemas.MarketCreate
) -> schemas.Market:
    """Create a market; its ward, if given, must be a ward of the national directory (and its
    province is the ward's)."""
    _check_distinct(body.zones)
    if body.ward_code is not None:
        code = admin_units.ward_code(body.ward_code)
        unit = await admin_units.get_unit(conn, code)
        if unit is None or unit.level != "ward":
            raise errors.UnknownWard(
                f"Ward {body.ward_code} is not in the national directory "
                "(GET /api/admin-units?province=48&q=... finds it by name).",
                field="ward_code",
            )
        province = unit.province_code or body.province_code
        if "province_code" in body.model_fields_set and province != body.province_code.zfill(2):
            raise errors.UnknownWard(
                f"Ward {code} ({unit.name}) is in province {province}, not {body.province_code}.",
                field="ward_code",
            )
        body = body.model_copy(update={"ward_code": code, "province_code": province})
    async with conn.transaction():
        if body.ward_code is not None:
            await _name_free(conn, ward_code=body.ward_code, name=body.name)
        market_id = await markets_q.insert_market(conn, body)
        market = await markets_q.get_market(conn, market_id)
        assert market is not None
        await audit.record(
            conn,
            actor_id=user.id,
            action="create",
            entity="market",
            entity_id=market_id,
            after=market.model_dump(mode="json"),
        )
    return market


async def _name_free(
    conn: asyncpg.Connection, *, ward_code: str, name: str, market_id: int | None = None
) -> None:
    """409 market_name_taken when another market of the ward (not archived) has this name: a
    reviewer created a second "Chợ Hàn" in Phường Hải Châu, and the lists could not tell them
    apart. Call in the writing transaction (markets_q.market_named locks the ward's names)."""
    other = await markets_q.market_named(conn, ward_code=ward_code, name=name, other_than=market_id)
    if other is not None:
        raise errors.MarketNameTaken(
            f"The ward already has a market named {name!r}: give this one a name of its own.",
            field="name",
        )


async def get_market(conn: asyncpg.Connection, market_id: int) -> schemas.Market:
    """A market, or market_not_found."""
    market = await markets_q.get_market(conn, market_id)
    if market is None:
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market


async def list_markets(
    conn: asyncpg.Connection, *, user: User, include_archived: bool = False
) -> list[schemas.Market]:
    """Markets in the caller's scope; archived ones only when asked for."""
    if user.role not in access.READ_ROLES:
        return []
    return await markets_q.list_markets(
        conn, await access.market_scope(conn, user), include_archived=include_archived
    )


async def get_market_for(conn: asyncpg.Connection, *, user: User, market_id: int) -> schemas.Market:
    """A market in scope, archived or not; 404 otherwise (its existence is not revealed)."""
    market = await markets_q.get_market(conn, market_id)
    if market is None or not await access.can_see_market(conn, user, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market


async def _require_market_manager(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    """Admins, and managers for the markets in their scope (403 before anything is looked up
    for other roles; 404 for an admin when the market does not exist)."""
    if user.role not in ("admin", "manager"):
        raise Forbidden("Only administrators and the market's managers change a market.")
    await access.require_market_write(conn, user, market_id)
    if not await markets_q.market_exists(conn, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")


# ---------------------------------------------------------------- zones


def _check_distinct(zones: list[str], field: str = "zones") -> None:
    seen: set[str] = set()
    for zone in zones:
        if zone_key(zone) in seen:
            raise errors.DuplicateZone(
                f"Zone {zone} is listed twice (names are compared regardless of case).",
                field=field,
                zone=zone,
            )
        seen.add(zone_key(zone))


@dataclasses.dataclass
class _ZonePlan:
    zones: list[str]
    retired: list[str]
    renames: list[tuple[str, str]]  # (old name, new name)


def _plan_zones(
    market: schemas.Market, renames: list[schemas.ZoneRename], zones: list[str] | None
) -> _ZonePlan:
    """The market's zones after the renames and the new current list (see schemas.MarketPatch)."""
    current, retired = list(market.zones), list(market.retired_zones)
    done: list[tuple[str, str]] = []
    for i, rename in enumerate(renames):
        old, new = rename.from_, rename.to
        where = f"zone_renames.{i}"
        names = {zone_key(z): z for z in current + retired}
        if zone_key(old) not in names:
            raise errors.UnknownZone(
                f"The market has no zone {old} to rename.", field=f"{where}.from", zone=old
            )
        old = names[zone_key(old)]
        if zone_key(new) in names and zone_key(new) != zone_key(old):
            raise errors.ZoneTaken(
                f"The market already has a zone {names[zone_key(new)]}.", field=f"{where}.to"
            )
        if new == old:
            continue
        current = [new if z == old else z for z in current]
        retired = [new if z == old else z for z in retired]
        done.append((old, new))
    if zones is not None:
        _check_distinct(zones)
        # A zone listed in another case is the same zone, kept as spelled (a rename respells it).
        names = {zone_key(z): z for z in current + retired}
        listed = [names.get(zone_key(z), z) for z in zones]
        keys = {zone_key(z) for z in listed}
        retired = [z for z in retired + current if zone_key(z) not in keys]
        current = listed
    return _ZonePlan(current, retired, done)


def check_zone(market: markets_q.MarketZones, zone: str | None, *, field: str = "zone") -> None:
    """422 unless a stall may be put in this zone of the market (None: no zone, always allowed)."""
    if zone is None or zone in market.zones or not (market.zones or market.retired_zones):
        return
    raise zone_problem(
        market, zone, "zone_retired" if zone in market.retired_zones else "unknown_zone", field
    )


def zone_problem(
    market: markets_q.MarketZones, zone: str | None, code: str, field: str = "zone"
) -> errors.UnknownZone | errors.ZoneRetired:
    """The error for a zone a stall cannot be put in, listing the zones it can."""
    listed = ", ".join(market.zones) or "none"
    if code == "zone_retired":
        return errors.ZoneRetired(
            f"Zone {zone} is retired: it takes no new stalls. Current zones: {listed}.",
            field=field,
            zones=market.zones,
        )
    return errors.UnknownZone(
        f"The market has no zone {zone}. Its zones: {listed}.", field=field, zones=market.zones
    )


async def zone_error(
    conn: asyncpg.Connection, market_id: int, zone: str | None, code: str
) -> errors.UnknownZone | errors.ZoneRetired:
    """zone_problem for a check made in SQL (a registration): reads the market's zones."""
    market = await markets_q.market_zones(conn, market_id)
    assert market is not None
    return zone_problem(market, zone, code)


# ---------------------------------------------------------------- corrections


async def update_market(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    expected_version: int,
    patch: schemas.MarketPatch,
) -> schemas.Market:
    """Correct a market if nobody changed it since `expected_version`; audited."""
    await _require_market_manager(conn, user, market_id)
    fields = patch.model_fields_set
    async with conn.transaction():
        before = await markets_q.get_market(conn, market_id, for_update=True)
        if before is None:
            raise errors.MarketNotFound(f"No market with id {market_id}.")
        if before.version != expected_version:
            raise PreconditionFailed(
                f"The market is at version {before.version}, you edited version "
                f"{expected_version}. Reload it and apply your change again.",
                current_version=before.version,
            )
        ward = before.ward_code
        if "ward_code" in fields:
            ward = admin_units.ward_code(patch.ward_code) if patch.ward_code else None
            if ward is not None and not await admin_units.ward_exists(conn, ward):
                raise errors.UnknownWard(
                    f"Ward {patch.ward_code} is not in the national directory.", field="ward_code"
                )
        name = patch.name if patch.name is not None else before.name
        if ward is not None and (ward != before.ward_code or name != before.name):
            await _name_free(conn, ward_code=ward, name=name, market_id=market_id)
        plan = _plan_zones(before, patch.zone_renames, patch.zones)
        await markets_q.update_market(
            conn,
            market_id=market_id,
            name=patch.name if patch.name is not None else before.name,
            address=patch.address if "address" in fields else before.address,
            ward_code=ward,
            lat=patch.lat if "lat" in fields else before.lat,
            lon=patch.lon if "lon" in fields else before.lon,
            zones=plan.zones,
            retired_zones=plan.retired,
            asks_licence=patch.asks_licence
            if patch.asks_licence is not None
            else before.asks_licence,
        )
        moved: dict[str, int] = {}
        for old, new in plan.renames:
            moved[old] = await _rename_zone_of_stalls(conn, market_id, old, new)
        if user.role != "admin" and ward != before.ward_code:
            # A manager may not move a market out of their own scope (they would lose it).
            fresh = dataclasses.replace(user, scope_facts=None)
            scope = await access.market_scope(conn, fresh)
            if scope is not None and market_id not in scope:
                raise errors.WardOutOfScope(
                    "Moving the market to this ward would take it out of your scope; "
                    "ask an administrator.",
                    field="ward_code",
                )
        after = await markets_q.get_market(conn, market_id)
        assert after is not None
        await audit.record(
            conn,
            actor_id=user.id,
            action="update",
            entity="market",
            entity_id=market_id,
            before=before.model_dump(mode="json"),
            after={
                **after.model_dump(mode="json"),
                "zone_renames": [
                    {"from": old, "to": new, "stalls": moved[old]} for old, new in plan.renames
                ],
            },
        )
    return after


async def _rename_zone_of_stalls(
    conn: asyncpg.Connection, market_id: int, old: str, new: str
) -> int:
    """Stalls in zone `old` (any case) move to `new`, and so does what the counters hold for
    them; returns how many stalls moved."""
    spellings = [
        z for z in await markets_q.stall_zones(conn, market_id) if zone_key(z) == zone_key(old)
    ]
    if not spellings:
        return 0
    moved = await markets_q.rename_stall_zone(conn, market_id=market_id, old=spellings, new=new)
    await counters.rename_zone(conn, market_id=market_id, old=spellings, new=new)
    return moved


async def set_archived(
    conn: asyncpg.Connection, *, user: User, market_id: int, archived: bool, reason: str
) -> schemas.Market:
    """Archive a market (it leaves lists, dashboards, the map and rollups; its history stays and
    it takes no new stalls) or bring it back. Archiving an archived market changes nothing."""
    await _require_market_manager(conn, user, market_id)
    async with conn.transaction():
        before = await markets_q.get_market(conn, market_id, for_update=True)
        if before is None:
            raise errors.MarketNotFound(f"No market with id {market_id}.")
        if before.archived == archived:
            return before
        if not archived and before.ward_code is not None:
            # Back in the lists beside a market given its name meanwhile: the same rule as a new one.
            await _name_free(
                conn, ward_code=before.ward_code, name=before.name, market_id=market_id
            )
        await markets_q.set_market_archived(
            conn, market_id=market_id, archived=archived, user_id=user.id, reason=reason
        )
        after = await markets_q.get_market(conn, market_id)
        assert after is not None
        await audit.record(
            conn,
            actor_id=user.id,
            action="archive" if archived else "unarchive",
            entity="market",
            entity_id=market_id,
            before={"archived": before.archived, "version": before.version},
            after={"archived": after.archived, "version": after.version, "reason": reason},
        )
    return after


async def confirm_by_counts_for(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> schemas.ConfirmByCounts:
    """How the holders of a market's active stalls learn that a payment arrived; counts only (no
    person), for every role that reads the market (404 out of scope, like the market)."""
    await get_market_for(conn, user=user, market_id=market_id)
    counts = await markets_q.confirm_by_counts(conn, market_id)
    return schemas.ConfirmByCounts(market_id=market_id, **counts)


async def also_accepts_counts_for(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> schemas.AlsoAcceptsCounts:
    """Other ways the market's active stalls take payment; counts only, for every role that reads
    the market (404 out of scope, like the market)."""
    await get_market_for(conn, user=user, market_id=market_id)
    counts = await markets_q.also_accepts_counts(conn, market_id)
    return schemas.AlsoAcceptsCounts(market_id=market_id, **counts)
