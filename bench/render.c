/* bench/render: render the corpus repeatedly and compare with YAML parsing alone.
 *
 * Both are measured in this run, on the same inputs read once into memory:
 *   parse  = YAML text -> positioned trees (the baseline: the least any validator must do)
 *   render = parse + schema check + decode + validate + plan + render + YAML output
 * Prints renders per second, microseconds per graph, the render/parse ratio, and peak RSS. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api/validate.h"
#include "render/render.h"

typedef struct input {
    char *name, *text;
    size_t len;
} input;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t load_corpus(const char *dir, input *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        out[n].text = dyn_read_file(path, &out[n].len);
        if (out[n].text)
            out[n++].name = strdup(e->d_name);
    }
    closedir(d);
    return n;
}

static void parse_once(const input *in)
{
    dyn_yaml_stream s;
    dyn_diags d;
    dyn_diags_init(&d);
    dyn_yaml_parse(&s, in->name, in->text, in->len, &d);
    dyn_yaml_stream_free(&s);
    dyn_diags_free(&d);
}

static size_t render_once(const input *in, const dyn_config *cfg, FILE *sink)
{
    dyn_diags d;
    dyn_diags_init(&d);
    dyn_bundle b;
    dyn_load_opts opts = {.config = cfg};
    size_t objects = 0;
    if (dyn_bundle_load(&b, in->name, in->text, in->len, &opts, &d)) {
        json_t *list = dyn_render_bundles(&b, 1, &opts, NULL);
        dyn_render_write_yaml(sink, list);
        objects = json_array_size(list);
        json_decref(list);
    }
    dyn_bundle_free(&b);
    dyn_diags_free(&d);
    return objects;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/data/corpus";
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    input inputs[256];
    size_t n = load_corpus(dir, inputs, 256);
    if (n == 0) {
        fprintf(stderr, "bench/render: no .yaml files in %s (run from the repository root or pass a dir)\n", dir);
        return 2;
    }
    dyn_config cfg;
    dyn_config_defaults(&cfg);
    FILE *sink = fopen("/dev/null", "w");

    /* warm up: embedded schemas load once per process, caches fill */
    size_t objects = 0;
    for (size_t i = 0; i < n; i++)
        objects += render_once(&inputs[i], &cfg, sink);

    size_t parses = 0, renders = 0;
    double t0 = now();
    while (now() - t0 < seconds)
        for (size_t i = 0; i < n; i++, parses++)
            parse_once(&inputs[i]);
    double parse_time = (now() - t0) / (double)parses;

    t0 = now();
    while (now() - t0 < seconds)
        for (size_t i = 0; i < n; i++, renders++)
            render_once(&inputs[i], &cfg, sink);
    double render_time = (now() - t0) / (double)renders;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench/render: %zu graphs from %s, %zu objects per pass\n", n, dir, objects);
    printf("  parse only (baseline): %9.1f us/graph  %9.0f graphs/s\n", parse_time * 1e6, 1.0 / parse_time);
    printf("  full render:           %9.1f us/graph  %9.0f renders/s\n", render_time * 1e6, 1.0 / render_time);
    printf("  ratio render/parse:    %9.2f  (aim <= 2)\n", render_time / parse_time);
    printf("  peak RSS:              %9ld KiB\n", ru.ru_maxrss);
    fclose(sink);
    for (size_t i = 0; i < n; i++) {
        free(inputs[i].name);
        free(inputs[i].text);
    }
    dyn_config_free(&cfg);
    return 0;
}
