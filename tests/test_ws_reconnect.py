# The reconnect policy (ws.reconnect) against the real websockets server.
import asyncio

import pytest
from websockets.asyncio.server import serve

from ws.client import WsClient
from ws.errors import WsError
from ws.reconnect import Backoff, Reconnector


def test_backoff_grows_caps_and_resets():
    b = Backoff(100, 1000, jitter_pct=0)
    assert [b.next_ms() for _ in range(7)] == [100, 200, 400, 800, 1000, 1000, 1000]
    b.reset()
    assert b.next_ms() == 100


def test_backoff_jitter_stays_in_range():
    b = Backoff(1000, 8000, jitter_pct=50)
    seen = set()
    for _ in range(200):
        b.reset()
        d = b.next_ms()
        assert 500 <= d <= 1000
        seen.add(d)
    assert len(seen) > 50  # really random
    for _ in range(10):
        d = b.next_ms()
    assert 4000 <= d <= 8000


@pytest.mark.parametrize("args", [(0, 10), (10, 5), (10, 20, 0), (10, 20, 2, 101)])
def test_backoff_refuses_nonsense(args):
    with pytest.raises(ValueError):
        Backoff(*args)


async def test_reconnects_after_each_drop_and_notifies():
    served = []

    async def handler(conn):
        served.append(await conn.recv())
        await conn.close(1001, "restart")

    events = []

    async def on_disconnected(err):  # a coroutine callback
        events.append(("down", err.code))

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as srv:
        url = "ws://127.0.0.1:%d/ocpp" % srv.sockets[0].getsockname()[1]
        ws = WsClient(url, "CP_1", max_message=1024)

        async def session(client):
            await client.send("hello %d" % rc.connects)
            while True:
                await client.recv()

        rc = Reconnector(ws, session, min_ms=10, max_ms=40, stable_ms=0,
                         on_connected=lambda p: events.append(("up", p)),
                         on_disconnected=on_disconnected)
        task = asyncio.create_task(rc.run())
        await asyncio.wait_for(rc.connected.wait(), 2)
        for _ in range(200):
            if rc.connects >= 3 and len(events) >= 6:
                break
            await asyncio.sleep(0.01)
        await rc.stop()
        await asyncio.wait_for(task, 2)
    assert served[:3] == ["hello 1", "hello 2", "hello 3"]
    assert events[:6] == [("up", "ocpp1.6"), ("down", 1001)] * 3
    assert not rc.connected.is_set() and ws.closed
    assert rc.backoff.attempt <= 1  # reset by every good connection (stable_ms=0)


async def test_backs_off_while_the_central_system_is_down():
    async with serve(lambda c: None, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
    ws = WsClient("ws://127.0.0.1:%d/ocpp" % port, "CP_1", max_message=1024)

    async def session(client):
        raise AssertionError("never connected")

    rc = Reconnector(ws, session, min_ms=40, max_ms=1000, jitter_pct=0)
    task = asyncio.create_task(rc.run())
    await asyncio.sleep(0.35)  # waits of 40, 80, 160 ms: 3 or 4 attempts, not hundreds
    assert 3 <= rc.attempts <= 4
    assert isinstance(rc.last_error, WsError) and "cannot connect" in rc.last_error.reason
    await rc.stop()
    await asyncio.wait_for(task, 1)  # stop() cuts the wait short


async def test_short_connections_do_not_reset_the_backoff():
    async def handler(conn):
        await conn.close()

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as srv:
        url = "ws://127.0.0.1:%d/ocpp" % srv.sockets[0].getsockname()[1]
        ws = WsClient(url, "CP_1", max_message=1024)

        async def session(client):
            while True:
                await client.recv()

        rc = Reconnector(ws, session, min_ms=5, max_ms=100, stable_ms=60000, jitter_pct=0)
        task = asyncio.create_task(rc.run())
        await asyncio.sleep(0.3)
        await rc.stop()
        await asyncio.wait_for(task, 1)
    assert rc.connects >= 3 and rc.backoff.attempt >= 3
