// simclock: the main thread's CPU time, for the simulated board's stall meter (host only).
//
// Built into the frozen 32-bit unix interpreter of tools/build_micropython.py, never into
// the ESP32 image. A wall clock counts the time the host's scheduler (or the hypervisor)
// takes the process off the CPU; a board has no such pauses, so firmware/sim/stall.py
// measures how long the loop is held in CPU time of the thread that runs it.

#include <time.h>

#include "py/runtime.h"
#include "py/mphal.h"
#include "py/smallint.h"

// thread_cpu_us(): microseconds of CPU time of the calling thread, wrapping like
// time.ticks_us() (compare two values with time.ticks_diff).
static mp_obj_t simclock_thread_cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    mp_uint_t us = (mp_uint_t)ts.tv_sec * 1000000u + (mp_uint_t)(ts.tv_nsec / 1000);
    return MP_OBJ_NEW_SMALL_INT(us & (MICROPY_PY_TIME_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(simclock_thread_cpu_us_obj, simclock_thread_cpu_us);

static const mp_rom_map_elem_t simclock_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_simclock) },
    { MP_ROM_QSTR(MP_QSTR_thread_cpu_us), MP_ROM_PTR(&simclock_thread_cpu_us_obj) },
};
static MP_DEFINE_CONST_DICT(simclock_globals, simclock_globals_table);

const mp_obj_module_t simclock_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&simclock_globals,
};

MP_REGISTER_MODULE(MP_QSTR_simclock, simclock_module);
