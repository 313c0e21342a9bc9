/* dynamo-c logging: one line per event on stderr.
 *
 * DYN_LOG=error|warn|info|debug|trace selects the level (default info);
 * DYN_LOGGING_JSONL=1 switches to one JSON object per line. Thread-safe. */
#ifndef DYN_LOG_H
#define DYN_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dyn_log_level {
    DYN_LOG_ERROR = 0,
    DYN_LOG_WARN,
    DYN_LOG_INFO,
    DYN_LOG_DEBUG,
    DYN_LOG_TRACE
} dyn_log_level;

/* True when a message at this level would be written (read from the environment once). */
int dyn_log_enabled(dyn_log_level level);

/* module: a short noun ("nats", "etcd", "render"); fmt: printf-style, no trailing newline. */
void dyn_log(dyn_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define DYN_ERROR(mod, ...) dyn_log(DYN_LOG_ERROR, mod, __VA_ARGS__)
#define DYN_WARN(mod, ...)  dyn_log(DYN_LOG_WARN, mod, __VA_ARGS__)
#define DYN_INFO(mod, ...)  dyn_log(DYN_LOG_INFO, mod, __VA_ARGS__)
#define DYN_DEBUG(mod, ...) do { if (dyn_log_enabled(DYN_LOG_DEBUG)) dyn_log(DYN_LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define DYN_TRACE(mod, ...) do { if (dyn_log_enabled(DYN_LOG_TRACE)) dyn_log(DYN_LOG_TRACE, mod, __VA_ARGS__); } while (0)

#ifdef __cplusplus
}
#endif
#endif
