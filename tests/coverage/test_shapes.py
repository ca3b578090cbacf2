"""Large answers are built as plain JSON values (in Python, or by PostgreSQL for the groups of a
national rollup or map): they must be exactly what the models and the Python shapes give."""

from __future__ import annotations

import itertools

import orjson

from coverage import schemas as s
from coverage.queries import reads
from coverage.queries.counts import Counts, GroupRow
from coverage.queries.reads import share_sql
from coverage.shapes import feature_dict, group_dict, levels_dict, levels_out, share, to_json
from tests.merchants.test_coverage import register


def test_levels_as_plain_values_round_like_the_model():
    for active, count in itertools.product((0, 1, 3, 7, 32, 96, 1000), (0, 1, 2, 3, 31)):
        count = min(count, active)
        c = Counts(active, count, count, count, count)
        assert levels_dict(c) == levels_out(c).model_dump(mode="json")


def test_shares_are_the_exact_fraction_rounded_down():
    # Never above what they are: 17,999 of 20,000 (0.89995) must not read as a 0.9 target met.
    assert (share(1, 32), share(3, 20000), share(2, 3), share(1, 3), share(0, 0)) == (
        0.0312,
        0.0001,
        0.6666,
        0.3333,
        0.0,
    )
    assert share(17999, 20000) == 0.8999 and share(9, 10) == 0.9 and share(29, 100) == 0.29


async def test_the_database_rounds_shares_the_same_way(conn):
    pairs = [(c, a) for a in range(1, 130) for c in range(a + 1)] + [(1, 32), (3, 20000)]
    rows = await conn.fetch(
        f"SELECT {share_sql('c', 'a')} AS share FROM unnest($1::int[], $2::int[]) AS x (c, a)",
        [c for c, _ in pairs],
        [a for _, a in pairs],
    )
    assert [r["share"] for r in rows] == [share(c, a) for c, a in pairs]


async def test_groups_built_by_the_database_are_the_python_shapes(client, auth, markets, conn):
    """The SQL that builds a national rollup's groups and map features gives the same JSON as
    group_dict / feature_dict over the same rows."""
    await conn.execute("UPDATE market SET lat = NULL, lon = NULL WHERE id = $1", markets["two"])
    v1 = await auth("volunteer")
    for code in ("A-1", "A-2", "B-1"):
        stall = await register(client, v1, markets["one"], code)
    await client.post(f"/api/stalls/{stall}/sign-delivered", headers=v1)
    built = await reads.market_groups_json(conn, None)
    rows = await reads.market_groups(conn, None)
    assert orjson.loads(built.json) == [group_dict(g) for g in rows]
    assert built.total.counts == Counts(3, 1, 0, 0, 0) and built.total.markets == 2
    assert built.total.statuses == {"not_started": 1, "in_progress": 1, "cashless": 0, "lapsed": 0}
    features = orjson.loads(await reads.market_features_json(conn, None))
    assert features == [feature_dict(g) for g in rows]
    for kind in ("ward", "province", "legacy_district"):
        area = await reads.area_groups_json(conn, kind, None)
        assert orjson.loads(area.json) == [
            group_dict(g) for g in await reads.area_groups(conn, kind, None)
        ]
        assert area.total.counts == built.total.counts


def _round_trip(model: type, value: dict) -> None:
    """The value is a valid instance of the model, and the model gives back the same JSON."""
    parsed = orjson.loads(to_json(value))
    assert model.model_validate(parsed).model_dump(mode="json") == parsed


def test_group_dicts_are_group_coverage():
    market = GroupRow(
        key="7", name="Chợ Hàn", markets=1, counts=Counts(96, 40, 30, 3, 1),
        statuses={"not_started": 0, "in_progress": 1, "cashless": 0, "lapsed": 0},
        status="in_progress", lat=16.07, lon=108.22, ward_code="20242", province_code="48",
    )  # fmt: skip
    ward = GroupRow(
        key="20242", name="Phường Hải Châu", markets=3, counts=Counts(5, 1, 0, 0, 0),
        statuses={"not_started": 2, "in_progress": 1, "cashless": 0, "lapsed": 0},
        lat=None, lon=None, province_code="48",
    )  # fmt: skip
    partner = GroupRow(key="MB", name="MB", markets=None, counts=Counts(), statuses=None)
    for g in (market, ward, partner):
        _round_trip(s.GroupCoverage, group_dict(g))
    assert group_dict(market)["levels"]["qr_issued"] == {"count": 40, "share": 0.4166}
    assert group_dict(partner)["statuses"] is None


def test_feature_dicts_are_market_features():
    placed = GroupRow(
        key="7", name="Chợ Hàn", markets=1, counts=Counts(3, 2, 1, 0, 0), statuses={},
        status="cashless", lat=16.07, lon=108.22, ward_code="20242", ward_name="Phường Hải Châu",
    )  # fmt: skip
    unplaced = GroupRow(key="8", name=None, markets=1, counts=Counts(), statuses={})
    for g in (placed, unplaced):
        _round_trip(s.MarketFeature, feature_dict(g))
    assert feature_dict(placed)["geometry"] == {"type": "Point", "coordinates": [108.22, 16.07]}
    assert feature_dict(unplaced)["geometry"] is None
    assert feature_dict(unplaced)["properties"]["status"] == "not_started"
