"""The charge-point model that knows no OCPP version: the relay rule of each EVSE (evse), the
connector status machine (status), charging schedules (schedule) and why the firmware started
(bootreason)."""
