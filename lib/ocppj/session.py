# OCPP-J RPC session: one CALL in flight, incoming CALLs answered meanwhile, every frame checked.
"""The RPC layer between a WebSocket connection and the charge point's handlers.

    session = Session(protocol, encoder, send, timeout_ms=30000)
    session.handlers["Reset"] = on_reset           # fn(payload) -> result dict (or coroutine)
    result = await session.call("Heartbeat", {})    # raises CallError / CallTimeout
    await session.feed(message)                     # for each message the link receives

`protocol` is the version's data (ocppj.protocol.V16 or V201): subprotocol name, schema
tables and error-code spellings; nothing here assumes one OCPP version.

Rules kept here (OCPP-J 1.6 §4, 2.0.1 part 4 §4):
- one outstanding CALL per connection: later calls wait their turn, in order;
- unique message ids per connection, at most 36 characters;
- until BootNotification is Accepted only BootNotification goes out; while Pending only
  messages the central system triggered (call(..., triggered=True));
- incoming CALLs are validated against the schema tables and answered with the version's
  error codes; CALLRESULTs of our CALLs are validated too; unknown ids are dropped and logged;
- a `null` payload (OCPP-J 1.6 §4.2.1, §4.2.2: "null or ... empty object") is taken as {}
  where the action's table requires no field, in CALLs and CALLRESULTs alike: handlers and
  callers always get a dict (ocppj.validate);
- while the registration is Rejected the central system gets no answer at all (below).

While Rejected (OCPP 1.6 §4.2: "the Charge Point SHALL NOT send any OCPP message to the Central
System until the aforementioned retry interval has expired" and "While Rejected, the Charge
Point SHALL NOT respond to any Central System initiated message"; the errata sheet keeps the
rule: 3.11 only rewords §4.2's note on transactions before acceptance, 3.22 adds the
StatusNotifications after Accepted): an incoming CALL is logged and dropped, unanswered. Its
handler does not run, so a RemoteStartTransaction starts nothing, and no CALLERROR goes out
either (a CALLERROR is an OCPP message, and a response all the same); a malformed frame gets
none either. The central system, which SHOULD NOT initiate any, sees its request time out.
Answers to our own CALLs are still taken (the next BootNotification, after `interval`, is the
way out of Rejected). The registration is the status of the BootNotification answer from the
moment it is received (set_registration() too, for the caller's own decisions). Before the first answer to a BootNotification (registration None) and
while Pending, CALLs are answered as usual (§4.2: while Pending "The Charge Point SHOULD
respond"). WebSocket pings are still answered: they are not OCPP messages.
"""

import asyncio
import json
import sys

import logger
from ocppj import errors
from ocppj.encoder import FrameTooLarge
from ocppj.validate import ValidationError, validate

CALL = 2
CALLRESULT = 3
CALLERROR = 4
MAX_ID_LENGTH = 36

log = logger.get("ocpp")


class CallTimeout(Exception):
    pass


class NotConnected(Exception):
    pass


def _is_str(v):
    return isinstance(v, str)


# The secrets a frame may carry: the 1.6 AuthorizationKey, the 2.0.1 BasicAuthPassword
_SECRETS = (b"AuthorizationKey", b"BasicAuthPassword")


def _log_sent(buf, n):
    """Log the frame in buf[:n] unless it names a secret (it could carry it)."""
    for name in _SECRETS:
        if buf.find(name, 0, n) >= 0:
            log.info("-> <frame naming %s, %d bytes, not shown>" % (name.decode(), n))
            return
    log.frame("->", memoryview(buf)[:n])


def _sets_password(p):
    # A SetVariables naming BasicAuthPassword (variable names are case-insensitive, 2.0.1)
    data = p.get("setVariableData")
    for d in data if isinstance(data, list) else ():
        v = d.get("variable") if isinstance(d, dict) else None
        name = v.get("name") if isinstance(v, dict) else None
        if isinstance(name, str) and name.lower() == "basicauthpassword":
            return True
    return False


def _log_received(message, frame):
    """Log a received message, parsed as `frame`, unless it could carry a secret: the 1.6
    ChangeConfiguration of the AuthorizationKey, the 2.0.1 SetVariables of the
    BasicAuthPassword (the only requests that do)."""
    p = frame[3] if len(frame) > 3 else None
    if isinstance(p, dict) and (p.get("key") == "AuthorizationKey" or _sets_password(p)):
        log.info("<- <frame setting a secret, %d bytes, not shown>" % len(message))
    else:
        log.frame("<-", message)


class Session:
    def __init__(self, protocol, encoder, send, timeout_ms=30000, on_invalid=None):
        self.protocol = protocol
        # fn(what): a received message was not valid OCPP (not JSON, not OCPP-J, or against
        # the schema); told once per connection, for the InvalidMessages security event
        self.on_invalid = on_invalid
        self._invalid_told = False
        self.encoder = encoder
        self._send = send  # async fn(buf, length): one frame out
        self.timeout_ms = timeout_ms
        self.handlers = {}
        # services made at their first request (lib/lazy.py): .actions, .get() registers
        # their handlers; one list here rather than a stand-in function per action
        self.lazy = []
        self.registration = None  # None, "Pending", "Accepted" or "Rejected"
        self.connected = False
        self._next_id = 1
        self._call_lock = asyncio.Lock()  # one CALL in flight; waiters queue in order
        self._send_lock = asyncio.Lock()  # the encoder buffer is shared by every frame
        self._accepted = asyncio.Event()
        self._reply = asyncio.Event()
        self._waiting_id = None
        self._waiting_action = None
        self._result = None  # the answer to the CALL in flight: a payload ...
        self._failure = None  # ... or the exception its caller gets
        self._after = []

    # -- connection state --------------------------------------------------------------
    def opened(self):
        self.connected = True
        self._invalid_told = False

    def _invalid(self, what):
        if self.on_invalid is not None and not self._invalid_told:
            self._invalid_told = True
            try:
                self.on_invalid(what)
            except Exception as e:
                log.error("on_invalid failed:", repr(e))

    def closed(self):
        self.connected = False
        if self._waiting_id is not None:
            self._failure = NotConnected("connection closed")
            self._reply.set()

    def set_registration(self, status):
        self.registration = status
        if status == "Accepted":
            self._accepted.set()
        else:
            self._accepted.clear()

    # -- outgoing CALLs ------------------------------------------------------------------
    async def call(self, action, payload, triggered=False, timeout_ms=None):
        """Send a CALL and return the validated CALLRESULT payload."""
        if action != "BootNotification" and not (triggered and self.registration == "Pending"):
            await self._accepted.wait()  # errata 3.22: nothing else before Accepted
        async with self._call_lock:
            if not self.connected:
                raise NotConnected("not connected")
            msg_id = self._next_id
            self._next_id = msg_id + 1 if msg_id < 999999999 else 1
            self._waiting_id = str(msg_id)
            self._waiting_action = action
            self._result = self._failure = None
            self._reply.clear()
            try:
                async with self._send_lock:
                    n = self.encoder.call(self._waiting_id, action, payload)
                    if log_frames:
                        _log_sent(self.encoder.buf, n)
                    try:
                        await self._send(self.encoder.buf, n)
                    except MemoryError:
                        raise
                    except Exception as e:  # the link closing under us (ws.WsError, OSError):
                        # callers handle NotConnected; anything else would end their task
                        raise NotConnected("not sent: " + str(e))
                ms = timeout_ms or self.timeout_ms
                try:
                    await asyncio.wait_for(self._reply.wait(), ms / 1000)
                except asyncio.TimeoutError:
                    raise CallTimeout("%s: no answer in %d ms" % (action, ms))
            finally:
                self._waiting_id = None
            if self._failure is not None:
                raise self._failure
            return self._result

    # -- incoming frames -----------------------------------------------------------------
    async def feed(self, message):
        """Handle one received message (bytes, bytearray or memoryview)."""
        try:
            frame = json.loads(message if _LOADS_BUFFERS else bytes(message))
        except (ValueError, UnicodeError):
            # not shown: what cannot be parsed cannot be checked for the key either
            log.warn("dropped a message that is not JSON (%d bytes)" % len(message))
            self._invalid("a message that is not JSON")
            return
        except MemoryError:
            # Nesting costs the parser about 40 bytes a level: a hostile `[[[[...` fills
            # the heap. json.loads runs alone on the loop, so only its own garbage is lost.
            log.warn("dropped a message too deep to parse (%d bytes)" % len(message))
            return
        if log_frames:
            _log_received(message, frame if isinstance(frame, list) else ())
        if not isinstance(frame, list) or len(frame) < 3 or not _is_str(frame[1]):
            self._invalid("a message that is not an OCPP-J frame")
            if isinstance(frame, list) and len(frame) >= 2 and _is_str(frame[1]):
                await self._error(frame[1], "FormationViolation", "not an OCPP-J frame")
            else:
                log.warn("dropped a frame without a readable message id")
            return
        kind, msg_id = frame[0], frame[1]
        if len(msg_id) > MAX_ID_LENGTH:
            self._invalid("a message id longer than 36")
            await self._error(msg_id, "FormationViolation", "message id longer than 36")
        elif kind == CALL and len(frame) == 4 and _is_str(frame[2]):
            await self._incoming_call(msg_id, frame[2], frame[3])
            for service in self.lazy:  # the stateless ones go until their next request
                service.shed(self.handlers)
        elif kind == CALLRESULT and len(frame) == 3:
            self._incoming_result(msg_id, frame[2])
        elif kind == CALLERROR and len(frame) >= 4:
            self._incoming_error(msg_id, frame)
        elif kind in (CALL, CALLRESULT, CALLERROR):
            self._invalid("a frame with the wrong number of elements")
            await self._error(msg_id, "FormationViolation", "wrong number of elements")
        else:
            self._invalid("a frame of an unknown message type")
            await self._error(msg_id, "MessageTypeNotSupported", "unknown message type")

    def handler(self, action):
        """The handler of `action`, or None: registered, or registered now by the lazy
        service whose actions name it (made at this first request). RuntimeError when that
        service does not register it (a wiring bug)."""
        handler = self.handlers.get(action)
        if handler is None:
            for service in self.lazy:
                if action in service.actions:
                    service.get()
                    handler = self.handlers.get(action)
                    if handler is None:
                        raise RuntimeError(action + " not registered by its service")
        return handler

    async def _incoming_call(self, msg_id, action, payload):
        if self.registration == "Rejected":  # §4.2: no response at all, no handler run
            log.warn("not answering", action[:40], msg_id[:36],
                     "while Rejected (OCPP 1.6 4.2)")
            return
        tables = self.protocol.schema(action)
        if tables is None or action not in self.protocol.incoming:
            await self._error(msg_id, "NotImplemented", "unknown action " + action[:40])
            return
        try:
            handler = self.handler(action)
        except RuntimeError as e:  # a service that did not register its action: a bug
            log.error(str(e))
            handler = None
        if handler is None:
            await self._error(msg_id, "NotSupported", action + " is not supported")
            return
        try:
            payload = validate(tables[0], payload)  # a null where nothing is required: {}
            result = handler(payload)
            if hasattr(result, "send"):  # a coroutine
                result = await result
        except ValidationError as e:
            self._invalid(action[:40] + " against its schema: " + e.kind)
            await self._error(msg_id, e.kind, str(e))
            return
        except errors.CallError as e:
            await self._error(msg_id, e.code, e.description, e.details)
            return
        except Exception as e:  # a handler bug must not take the connection down
            log.error("handler", action, "failed:", repr(e))
            await self._error(msg_id, "InternalError", "handler failed")
            return
        try:
            async with self._send_lock:
                n = self.encoder.result(msg_id, result)
                if log_frames:
                    _log_sent(self.encoder.buf, n)
                await self._send(self.encoder.buf, n)
        except FrameTooLarge:
            log.error(action, "answer does not fit the frame buffer")
            await self._error(msg_id, "InternalError", "response too large for the buffer")
        self._run_after()

    def after_reply(self, fn):
        """Run fn() once the CALLRESULT of the CALL being handled has been sent."""
        self._after.append(fn)

    def _run_after(self):
        pending, self._after = self._after, []
        for fn in pending:
            try:
                result = fn()
                if hasattr(result, "send"):
                    asyncio.create_task(result)
            except Exception as e:  # a follow-up's bug must not take the connection down
                log.error("after-reply work failed:", repr(e))

    def _incoming_result(self, msg_id, payload):
        if msg_id != self._waiting_id:
            log.warn("dropped a CALLRESULT for unknown id", msg_id[:36])
            return
        tables = self.protocol.schema(self._waiting_action)
        try:
            self._result = validate(tables[1], payload)  # null for {}: OCPP-J 4.2.2
        except ValidationError as e:
            self._failure = errors.CallError(e.kind, "invalid answer: " + str(e))
        else:
            if self._waiting_action == "BootNotification":
                # The registration changes with the answer, not when the caller resumes: a
                # CALL right behind a Rejected answer already goes unanswered.
                self.registration = self._result["status"]
        self._reply.set()

    def _incoming_error(self, msg_id, frame):
        if msg_id != self._waiting_id:
            log.warn("dropped a CALLERROR for unknown id", msg_id[:36])
            return
        code = frame[2] if _is_str(frame[2]) else "GenericError"
        description = frame[3] if _is_str(frame[3]) else ""
        details = frame[4] if len(frame) > 4 and isinstance(frame[4], dict) else None
        self._failure = errors.CallError(errors.parse(code), description, details)
        self._reply.set()

    async def _error(self, msg_id, code, description, details=None):
        spelled = errors.spell(self.protocol.name, code)
        if self.registration == "Rejected":  # §4.2: not even a CALLERROR
            log.warn("not answering", msg_id[:36], "while Rejected (OCPP 1.6 4.2):", description)
            return
        log.warn("answering", msg_id[:36], "with", spelled + ":", description)
        if not self.connected:
            return
        async with self._send_lock:
            try:
                n = self.encoder.error(msg_id, spelled, description, details)
            except FrameTooLarge:
                n = self.encoder.error(msg_id[:MAX_ID_LENGTH], spelled, "", None)
            await self._send(self.encoder.buf, n)


log_frames = True  # every frame in the log; set False on a busy production link

# MicroPython's json.loads reads a memoryview directly; CPython's needs bytes.
_LOADS_BUFFERS = sys.implementation.name == "micropython"
