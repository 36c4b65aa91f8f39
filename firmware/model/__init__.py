"""The charge-point model that knows no OCPP version: the relay rule of each EVSE (evse), each
connector's session and transaction (connector), what a card stops or starts (cards), the
connector status machine (status), availability, charging schedules (schedule) and why the
firmware started (bootreason)."""
