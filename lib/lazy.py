# Services made at their first request: their modules are imported then, not at start-up.
"""    diagnostics = LazyService(session, ("GetDiagnostics", "GetLog"), make_diagnostics)
    diagnostics.made     # None until it is needed
    diagnostics.get()    # made now if not yet (e.g. for a TriggerMessage of its status)
    session.handler("GetLog")   # the handler, the service made for it if it was not yet

A charging session never needs firmware updates, certificates or diagnostics, and their code
costs RAM once imported (frozen: a few KB of module objects; as .mpy files, their bytecode
too). The service joins `session.lazy`; the session's first request for one of `actions`
calls `make()`, which imports the service's module, builds the service and lets it register
its own handlers, and the request goes to the service. Nothing is made per action until then
(a stand-in function per action cost 64 bytes of heap each, a kilobyte for the application's
fifteen). The action names are given twice, here and in the service's register(), so
tests/device/test_lazy.py builds each lazy service of the application and checks that it
registered every one of its actions.

A stateless service (one that keeps nothing between requests: 1.6's Core requests) names its
module, and goes again once its request is answered (the session calls shed() after each
CALL): its handlers, the object and the module, until its next request makes them anew. On a
plain ESP32 the few hundred bytes it would hold are what the RSA check of a signed update or
the chain check of a certificate renewal may miss at the heap's fullest.
"""

import unload


class LazyService:
    module = None  # a stateless service's module, forgotten by shed() (set per instance then)

    def __init__(self, session, actions, make, module=None):
        self._make = make
        self.actions = actions
        self.made = None
        if module is not None:  # the others keep the class's None: no slot each at start-up
            self.module = module
        session.lazy.append(self)

    def get(self):
        if self.made is None:
            self.made = self._make()
        return self.made

    def shed(self, handlers):
        """A stateless service goes until its next request: its handlers (taken out of the
        session's `handlers`), the object and its module. A service without `module` stays."""
        if self.module is None or self.made is None:
            return
        self.made = None
        for action in self.actions:
            handlers.pop(action, None)
        unload.forget(self.module)
