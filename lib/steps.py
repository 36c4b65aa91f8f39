# Long computations as generators that yield between steps, run to the end here.
"""    ok = run(ecdsa.verify_steps(key, digest, sig))           # synchronous callers
    ok = await finish(ecdsa.verify_steps(key, digest, sig))  # on the asyncio loop

A step-wise computation is a generator: it yields (None) between chunks of work, each well
under a millisecond of host time (0.2-0.3 s on an ESP32), and `return`s its result. `finish`
gives the event loop a turn after every step, so the OCPP session, the pilot and the meters
go on while a signature or a certificate chain is checked; `run` just runs it through.
"""

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
        await sleep_ms(0)
