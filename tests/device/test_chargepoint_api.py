# Device tests of the charge point's own requests (firmware/v16/core.py): its DataTransfer.
import cprig
from devtest import tempdir
from firmware.sim.board import SimBoard
from firmware.v16.core import Core
from firmware.v16.settings import Settings
from ocpppeer import connect


def charge_point(replies):
    board = SimBoard({"connectors": 1, "sim": {"controlPort": 1}}, state_dir=tempdir())
    peer, session = connect(replies, registration="Accepted")
    return Core(cprig.charge_point(board, session, Settings(board.state_dir, 1, "Core"))), peer


async def test_data_transfer_from_the_charge_point():
    core, peer = charge_point([[3, {"status": "Accepted", "data": "pong"}],
                               [3, {"status": "UnknownVendorId"}], None])
    answer = await core.send_data_transfer("com.example", "ping", "hello")
    assert answer == {"status": "Accepted", "data": "pong"}, answer
    assert peer.sent[0][2:] == ["DataTransfer", {"vendorId": "com.example", "messageId": "ping",
                                                 "data": "hello"}], peer.sent
    answer = await core.send_data_transfer("org.other")
    assert answer == {"status": "UnknownVendorId"} and peer.sent[1][3] == {"vendorId": "org.other"}
    assert await core.send_data_transfer("com.example") is None  # no answer: not delivered
