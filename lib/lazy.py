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
        # self and action as default arguments, not a closure's cells: 64 bytes of heap per
        # stand-in instead of 96 (the 32-bit unix port), for as long as the firmware runs
        # without the service
        def first(payload, self=self, action=action):
            self.get()
            handler = self._session.handlers.get(action)
            if handler is first or handler is None:  # a wiring bug: the session says so
                raise RuntimeError(action + " not registered by its service")
            return handler(payload)
        return first
