/* Helpers for runtime integration tests: build a dyn_rt_config through the environment. */
#ifndef DYN_TEST_RTENV_H
#define DYN_TEST_RTENV_H

#include "dyn/config.h"

/* Clears every NATS_*, ETCD_* and DYN_* runtime variable, then sets the given NAME=VALUE
 * pairs (NULL-terminated) and reads the config. Returns dyn_rt_config_from_env's status. */
dyn_status rtenv_config(dyn_rt_config *cfg, dyn_error *err, ...);

#endif
