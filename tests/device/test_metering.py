# Device tests of clock-aligned meter values (firmware/v16/metering.py) on a real ChargePoint:
# every ClockAlignedDataInterval from midnight, journaled in a transaction, sent outside one
# only when the central system can be reached, and nothing made while the interval is 0.
from cprig import Rig
from ticks import sleep_ms

ALIGNED = {"ClockAlignedDataInterval": "900",
           "MeterValuesAlignedData": "Energy.Active.Import.Register"}


def clock_values(rig):
    return [p for p in rig.cs.sent("MeterValues")
            if p["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"]


async def test_outside_a_transaction_sent_at_each_interval_from_midnight():
    rig = Rig(connectors=2, config=ALIGNED)
    try:
        day = rig.board.time_s() // 86400 * 86400
        rig.cp._aligned(day + 899)  # the control loop's step: the first boundary is noted
        rig.cp._aligned(day + 900)
        await sleep_ms(50)
        sent = clock_values(rig)
        assert [p["connectorId"] for p in sent] == [1, 2], sent
        assert "transactionId" not in sent[0], sent[0]
        rig.cp._aligned(day + 1799)
        await sleep_ms(50)
        assert len(clock_values(rig)) == 2, "not before the next boundary"
        rig.cp._aligned(day + 1800)
        await sleep_ms(50)
        assert len(clock_values(rig)) == 4, "one each at the next"
        assert not rig.records("MeterValues"), "nothing journaled outside a transaction"
    finally:
        rig.close()


async def test_in_a_transaction_journaled_and_offline_outside_one_not_kept():
    rig = Rig(connectors=2, config=ALIGNED, connected=False)
    try:
        day = rig.board.time_s() // 86400 * 86400
        rig.plug(1)
        c = rig.cp.connectors[0]
        c.begin("TAG-CLOCK")
        rig.cp._aligned(day + 1)
        rig.cp._aligned(day + 900)
        await sleep_ms(50)
        records = rig.records("MeterValues")
        assert [r["connectorId"] for r in records] == [1], records
        assert records[0]["transactionId"] == c.tx.id, records
        assert records[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
        assert not rig.cs.sent("MeterValues"), "offline: connector 2's reading is not kept"
    finally:
        rig.close()


def test_nothing_is_made_while_the_interval_is_0():
    rig = Rig(config={"MeterValuesAlignedData": "Energy.Active.Import.Register"})
    try:
        day = rig.board.time_s() // 86400 * 86400
        for s in (899, 900, 1800):
            rig.cp._aligned(day + s)
        assert rig.cp.aligned is None and not rig.cs.sent("MeterValues")
        assert rig.settings.change("ClockAlignedDataInterval", "900") == "Accepted"
        rig.cp._aligned(day + 1801)
        assert rig.cp.aligned is not None, "made once the interval is set"
        assert rig.settings.change("ClockAlignedDataInterval", "0") == "Accepted"
        rig.cp._aligned(day + 2700)
        assert rig.cp.aligned is None, "and dropped when it is 0 again"
    finally:
        rig.close()
