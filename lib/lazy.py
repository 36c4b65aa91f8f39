# Services made at their first request: their modules are imported then, not at start-up.
"""    diagnostics = LazyService(session, ("GetDiagnostics", "GetLog"), make_diagnostics)
    diagnostics.made     # None until it is needed
    diagnostics.get()    # made now if not yet (e.g. for a TriggerMessage of its status)

A charging session never needs firmware updates, certificates or diagnostics, and their code
costs RAM once imported (frozen: a few KB of module objects; as .mpy files, their bytecode
too). `make()` imports the service's module, builds the service and lets it register its own
handlers, which replace the stand-ins put here for `actions`; the first request then goes to
the service. The action names are given twice, here and in the service's register(), so
tests/device/test_lazy.py builds each lazy service of the application and checks that it took
over every stand-in.
"""


class LazyService:
    _calling = None  # the action a stand-in is handing on (instance attribute while it does)

    def __init__(self, session, actions, make):
        self._session = session
        self._make = make
        self.actions = actions
        self.made = None
        for action in actions:
            session.handlers[action] = self._stand_in(action)

    def get(self):
        if self.made is None:
            self.made = self._make()
        return self.made

    def _stand_in(self, action):
        # What it needs as default arguments, not as a closure: a function with two defaults
        # is one 32-byte object, a closure over them three (64 bytes a stand-in against 128 on
        # the 32-bit build; the application makes a dozen at start-up). A stand-in its service
        # left in place is found when it is handed its own request again.
        def first(payload, lazy=self, action=action):
            handler = None
            if lazy._calling != action:
                lazy.get()
                handler = lazy._session.handlers.get(action)
            if handler is None:  # a wiring bug: the session says so
                raise RuntimeError(action + " not registered by its service")
            lazy._calling = action
            try:
                return handler(payload)
            finally:
                lazy._calling = None
        return first
