/* bench_numa: time to get N GiB of usable, faulted-in memory on node 0.
 *
 *   baseline   malloc + memset on one thread (what code does without libdyn)
 *   touch-1t   mmap + one write per page on one thread (the same kernel work as dyn_numa_alloc,
 *              without threads or placement: separates "less work" from "parallel")
 *   dyn        dyn_numa_alloc(size, 0): mbind + parallel first touch from pinned threads
 *   dyn-huge   the same with huge pages asked for
 *
 * Each variant runs REPS times per size, taking turns (median reported); after each run move_pages
 * reports the fraction of pages on node 0. Usage: bench_numa [GiB ...] (default 1 4). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "dyn/numa.h"

#define REPS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fraction of the page-aligned interior of [p, p+n) on node 0. */
static double locality(void *p, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) / page * page, b = ((uintptr_t)p + n) / page * page;
    dyn_numa_locality loc;
    dyn_error err;
    if (dyn_numa_verify((void *)a, b - a, 0, &loc, &err) != DYN_OK) {
        fprintf(stderr, "verify: %s\n", err.message);
        return -1;
    }
    return loc.fraction;
}

typedef struct result {
    double seconds, locality;
    unsigned threads;
    const char *pages;
} result;

static result run_baseline(size_t size)
{
    double t0 = now();
    char *p = malloc(size);
    if (!p) {
        fprintf(stderr, "malloc(%zu) failed\n", size);
        exit(1);
    }
    memset(p, 1, size); /* not 0: the compiler may turn malloc+memset(0) into calloc */
    double t = now() - t0;
    result r = {t, locality(p, size), 1, "base"};
    free(p);
    return r;
}

static result run_touch(size_t size)
{
    double t0 = now();
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (volatile char *q = p; q < p + size; q += page)
        *q = 0;
    double t = now() - t0;
    result r = {t, locality(p, size), 1, "base"};
    munmap(p, size);
    return r;
}

static result run_dyn(size_t size, int huge)
{
    dyn_numa_alloc_opts o = {.huge_pages = huge};
    dyn_numa_buffer b;
    dyn_error err;
    double t0 = now();
    if (dyn_numa_alloc(size, 0, &o, &b, &err) != DYN_OK) {
        fprintf(stderr, "dyn_numa_alloc: %s\n", err.message);
        exit(1);
    }
    double t = now() - t0;
    static const char *kinds[] = {"base", "hugetlb", "thp"};
    result r = {t, locality(b.data, b.size), b.threads, kinds[b.pages]};
    dyn_numa_free(&b);
    return r;
}

static void shape(const dyn_numa_topology *t)
{
    struct utsname u;
    uname(&u);
    char thp[128] = "?";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(thp, sizeof thp, f))
            snprintf(thp, sizeof thp, "?");
        thp[strcspn(thp, "\n")] = '\0';
        fclose(f);
    }
    char list[512];
    printf("machine: %s %s, %ld online CPUs, %.1f GiB RAM, page %ld B, THP [%s]\n", u.sysname,
           u.release, sysconf(_SC_NPROCESSORS_ONLN),
           (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1u << 30),
           sysconf(_SC_PAGESIZE), thp);
    for (size_t i = 0; i < t->node_count; i++)
        printf("node %d: cpus %s, %.1f GiB\n", t->nodes[i].id,
               dyn_numa_cpulist_format(&t->nodes[i].cpus, list, sizeof list),
               (double)t->nodes[i].memory_bytes / (1u << 30));
    printf("usable cpus: %s; NUMA placement %s\n",
           dyn_numa_cpulist_format(&t->usable, list, sizeof list),
           t->numa_enabled ? "enabled" : t->disabled_reason);
}

int main(int argc, char **argv)
{
    const dyn_numa_topology *t;
    dyn_error err;
    if (dyn_numa_topology_shared(&t, &err) != DYN_OK) {
        fprintf(stderr, "topology: %s\n", err.message);
        return 1;
    }
    shape(t);
    double sizes[16] = {1, 4};
    int nsizes = 2;
    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc && nsizes < 16; i++)
            if ((sizes[nsizes] = atof(argv[i])) > 0)
                nsizes++;
    }
    printf("\n%-8s %-10s %10s %9s %8s %8s %10s %16s\n", "size", "variant", "median ms", "GiB/s",
           "threads", "pages", "on node 0", "vs baseline");
    for (int s = 0; s < nsizes; s++) {
        size_t size = (size_t)(sizes[s] * (double)(1u << 30));
        const char *names[] = {"baseline", "touch-1t", "dyn", "dyn-huge"};
        double secs[4][REPS], worst_loc[4] = {1, 1, 1, 1};
        result last[4];
        /* Variants take turns within each repetition, so drift (other load, a hypervisor
         * backing guest memory on first use) hits all of them alike. */
        for (int k = 0; k < REPS; k++)
            for (int v = 0; v < 4; v++) {
                result r = v == 0 ? run_baseline(size) : v == 1 ? run_touch(size) : run_dyn(size, v == 3);
                secs[v][k] = r.seconds;
                if (r.locality < worst_loc[v])
                    worst_loc[v] = r.locality;
                last[v] = r;
            }
        double base_median = 0;
        for (int v = 0; v < 4; v++) {
            qsort(secs[v], REPS, sizeof secs[v][0], cmp_double);
            double med = secs[v][REPS / 2];
            if (v == 0)
                base_median = med;
            char gib[16];
            snprintf(gib, sizeof gib, "%g GiB", sizes[s]);
            printf("%-8s %-10s %10.1f %9.2f %8u %8s %9.1f%% %15.2fx\n", gib, names[v], med * 1e3,
                   sizes[s] / med, last[v].threads, last[v].pages, worst_loc[v] * 100,
                   base_median / med);
        }
    }
    double load[3] = {0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(la);
    }
    printf("\nload average after the run: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    printf("(vs baseline = baseline median time / variant median time; on node 0 = worst run)\n");
    return 0;
}
