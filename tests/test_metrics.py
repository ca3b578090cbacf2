"""/metrics: requests by route template and status, latency histograms, pool gauges, event queue.

The multi-worker form (values summed over uvicorn workers) is proven by the soak
(tests/test_soak_short.py), which compares the scraped request count with what its clients received.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ops import metrics

ROUTE = "/api/markets/{market_id}"


async def _scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _market_id(live) -> int:
    async with live.pool.acquire() as c:
        return int(await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'"))


async def test_requests_are_counted_by_route_template_and_status(live):
    metrics.install(live.app)
    market_id = await _market_id(live)
    headers = await live.token("admin")
    async with live.client() as client:
        before = await _scrape(client)
        for _ in range(3):
            assert (
                await client.get(f"/api/markets/{market_id}", headers=headers)
            ).status_code == 200
        for missing in (987654, 987655):
            assert (await client.get(f"/api/markets/{missing}", headers=headers)).status_code == 404
        assert (await client.get("/no/such/page")).status_code == 404
        after = await _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    total = "choso_http_requests_total"
    assert delta(total, method="GET", route=ROUTE, status="200") == 3
    assert delta(total, method="GET", route=ROUTE, status="404") == 2
    assert delta(total, method="GET", route=metrics.UNMATCHED, status="404") == 1
    # One label per template, never per id (bounded cardinality).
    assert not any(str(market_id) in dict(labels).get("route", "") for _, labels in after)
    hist = "choso_http_request_duration_seconds"
    assert delta(hist + "_count", method="GET", route=ROUTE) == 5
    assert delta(hist + "_bucket", method="GET", route=ROUTE, le="+Inf") == 5
    assert delta(hist + "_sum", method="GET", route=ROUTE) > 0


async def test_pool_gauges_describe_the_pool(live):
    metrics.install(live.app)
    async with live.client() as client:
        await client.get("/healthz")
        samples = await _scrape(client)
    in_use = _value(samples, "choso_db_pool_connections", state="in_use")
    idle = _value(samples, "choso_db_pool_connections", state="idle")
    assert _value(samples, "choso_db_pool_max_connections") == live.pool.get_max_size() == 20
    assert 1 <= in_use + idle <= 20  # the scrape itself holds one connection at most
    assert _value(samples, "choso_db_up") == 1


async def test_unprocessed_notifications_are_read_from_the_database_at_scrape_time(live):
    metrics.install(live.app)
    async with live.pool.acquire() as c:
        # This database is private to the test: a minimal queue table keeps it about the gauge.
        await c.execute(
            """DROP TABLE IF EXISTS partner_event CASCADE;
               CREATE TABLE partner_event (id int PRIMARY KEY, processed_at timestamptz);
               INSERT INTO partner_event
                   VALUES (1, NULL), (2, NULL), (3, clock_timestamp()), (4, NULL)"""
        )
    async with live.client() as client:
        assert _value(await _scrape(client), "choso_partner_events_unprocessed") == 3
        async with live.pool.acquire() as c:
            await c.execute(
                "UPDATE partner_event SET processed_at = clock_timestamp() WHERE id IN (1, 2)"
            )
        assert _value(await _scrape(client), "choso_partner_events_unprocessed") == 1
        async with live.pool.acquire() as c:
            await c.execute("DROP TABLE partner_event")
        assert ("choso_partner_events_unprocessed", ()) not in await _scrape(client)


async def test_install_is_idempotent_and_metrics_is_not_in_the_api_schema(live):
    metrics.install(live.app)
    metrics.install(live.app)
    async with live.client() as client:
        before = await _scrape(client)
        await client.get("/healthz")
        after = await _scrape(client)
        schema = (await client.get("/openapi.json")).json()
    key = (
        "choso_http_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "200")),
    )
    assert after[key] - before.get(key, 0) == 1  # counted once, not once per install
    assert "/metrics" not in schema["paths"]
