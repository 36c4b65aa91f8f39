# Long computations as generators that yield between steps, run to the end here.
"""    ok = run(ecdsa.verify_steps(key, digest, sig))           # synchronous callers
    ok = await finish(ecdsa.verify_steps(key, digest, sig))  # on the asyncio loop

A step-wise computation is a generator: it yields (None) between chunks of work, each well
under a millisecond of host time (0.2-0.3 s on an ESP32), and `return`s its result. `finish`
gives the event loop a turn after every step, so the OCPP session, the pilot and the meters
go on while a signature or a certificate chain is checked; `run` just runs it through.

After every step `finish` also collects the heap, before the other tasks run: the big-int
math of a step leaves hundreds of bytes of garbage, and the next step's 256- and 512-byte
numbers then find their room in one piece (at 96 KiB, the RSA check of a SignedUpdateFirmware
request failed one run in two without it, and as often with the collection in a turn of its
own, after the other tasks had run). A collection is some 0.2 ms here, a few ms on an ESP32:
about what a step takes.
"""

import gc

from ticks import sleep_ms


def run(gen):
    """The return value of the generator `gen`, run to its end without pausing."""
    while True:
        try:
            next(gen)
        except StopIteration as e:
            return e.value


async def finish(gen):
    """The return value of the generator `gen`; the loop runs other tasks between steps."""
    while True:
        try:
            next(gen)
        except StopIteration as e:
            return e.value
        gc.collect()  # the step's garbage gone before anything else allocates
        await sleep_ms(0)
