# The simclock user C module (tools/usermods/simclock): host builds only.
SIMCLOCK_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(SIMCLOCK_MOD_DIR)/simclock.c
