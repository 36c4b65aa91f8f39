# boot.py: runs first at every start of the board. Kept tiny so that nothing here can lock
# the integrator out of the REPL; the firmware starts in main.py.
import gc

gc.collect()
