/* Logging to stderr, plain or JSON lines: see include/dyn/log.h. */
#include "dyn/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *level_names[] = {"error", "warn", "info", "debug", "trace"};
static int configured_level = -1;
static int jsonl;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_init(void)
{
    configured_level = DYN_LOG_INFO;
    const char *lvl = getenv("DYN_LOG");
    if (lvl) {
        for (int i = 0; i <= DYN_LOG_TRACE; i++)
            if (strcasecmp(lvl, level_names[i]) == 0)
                configured_level = i;
    }
    const char *j = getenv("DYN_LOGGING_JSONL");
    jsonl = j && (strcmp(j, "1") == 0 || strcasecmp(j, "true") == 0);
}

int dyn_log_enabled(dyn_log_level level)
{
    pthread_once(&log_once, log_init);
    return (int)level <= configured_level;
}

/* Writes s as a JSON string body (no quotes). */
static void put_json_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void dyn_log(dyn_log_level level, const char *module, const char *fmt, ...)
{
    if (!dyn_log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    if (jsonl) {
        fprintf(stderr, "{\"time\":\"%s.%06ldZ\",\"level\":\"%s\",\"target\":\"", when,
                ts.tv_nsec / 1000, level_names[level]);
        put_json_escaped(stderr, module ? module : "dyn");
        fputs("\",\"message\":\"", stderr);
        put_json_escaped(stderr, msg);
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000, level_names[level],
                module ? module : "dyn", msg);
    }
    pthread_mutex_unlock(&log_lock);
}
