# Device tests of the status machine (OCPP 1.6 §4.9) and MinimumStatusDuration.
import time

from firmware.model.status import StatusReporter, connector_status


def status(available=True, error=None, plugged=False, ready=False, tx=False, offering=False,
           authorized=False, finishing=False, reserved=False):
    return connector_status(available, error, plugged, ready, tx, offering, authorized, finishing,
                            reserved)


def test_idle_and_preparing():
    assert status() == ("Available", "NoError")
    assert status(plugged=True) == ("Preparing", "NoError")
    assert status(authorized=True) == ("Preparing", "NoError")  # card first, cable to come
    assert status(available=False) == ("Unavailable", "NoError")
    assert status(available=False, plugged=True) == ("Unavailable", "NoError")


def test_transaction_states():
    assert status(plugged=True, ready=True, tx=True, offering=True) == ("Charging", "NoError")
    assert status(plugged=True, tx=True, offering=True) == ("SuspendedEV", "NoError")
    assert status(plugged=True, ready=True, tx=True) == ("SuspendedEVSE", "NoError")
    # Inoperative scheduled during a transaction: the transaction's status holds
    assert status(available=False, plugged=True, ready=True, tx=True, offering=True) == (
        "Charging", "NoError")
    assert status(plugged=True, finishing=True) == ("Finishing", "NoError")
    assert status(finishing=True) == ("Available", "NoError")  # cable already out
    # Inoperative scheduled during the transaction: it has ended, the cable is still in (F8)
    assert status(available=False, plugged=True, finishing=True) == ("Unavailable", "NoError")


def test_faults_and_warnings():
    assert status(error="PowerSwitchFailure", plugged=True, tx=True) == (
        "Faulted", "PowerSwitchFailure")
    assert status(error="GroundFailure") == ("Faulted", "GroundFailure")
    # EVCommunicationError is a warning: only with Preparing/SuspendedEV/SuspendedEVSE/Finishing
    assert status(error="EVCommunicationError", plugged=True) == (
        "Preparing", "EVCommunicationError")
    assert status(error="EVCommunicationError", plugged=True, tx=True) == (
        "SuspendedEVSE", "EVCommunicationError")
    assert status(error="EVCommunicationError") == ("Available", "NoError")
    assert status(error="HighTemperature", plugged=True) == ("Faulted", "HighTemperature")
    assert status(error="WeakSignal", plugged=True) == ("Preparing", "WeakSignal")  # a warning


def test_reserved():
    assert status(reserved=True) == ("Reserved", "NoError")  # A7
    assert status(reserved=True, plugged=True) == ("Reserved", "NoError"), "only the holder's"
    # the holder's identifier accepted, waiting for the cable: Preparing (G2)
    assert status(reserved=True, authorized=True) == ("Preparing", "NoError")
    assert status(reserved=True, available=False) == ("Unavailable", "NoError")  # G8
    assert status(reserved=True, error="GroundFailure") == ("Faulted", "GroundFailure")  # G9
    assert status(reserved=True, plugged=True, ready=True, tx=True, offering=True) == (
        "Charging", "NoError")
    assert status(reserved=True, plugged=True, finishing=True) == ("Finishing", "NoError")
    # not a status that carries a warning (errata: Preparing, SuspendedEV/EVSE, Finishing)
    assert status(reserved=True, error="EVCommunicationError", plugged=True) == (
        "Reserved", "NoError")


def test_reporter_reports_changes_once():
    r = StatusReporter(1, lambda: 0)
    assert r.observe(1, ("Available", "NoError")) == ("Available", "NoError")
    r.sent(1, ("Available", "NoError"))
    assert r.observe(1, ("Available", "NoError")) is None
    assert r.observe(1, ("Preparing", "NoError")) == ("Preparing", "NoError")
    r.forget()
    assert r.observe(1, ("Preparing", "NoError")) == ("Preparing", "NoError")


def test_minimum_status_duration_hides_blips():
    r = StatusReporter(1, lambda: 1)
    r.sent(1, ("Available", "NoError"))
    assert r.observe(1, ("Preparing", "NoError")) is None  # not yet held for 1 s
    assert r.observe(1, ("Available", "NoError")) is None  # back: nothing to report
    assert r.observe(1, ("Preparing", "NoError")) is None
    time.sleep(1.05)
    assert r.observe(1, ("Preparing", "NoError")) == ("Preparing", "NoError")
