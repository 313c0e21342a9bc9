/* Node-local allocation, locality verification and pinning on this machine's real kernel,
 * plus fixture topologies to exercise refusals (CPUs and nodes this machine does not have). */
#include "testutil.h"

#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dyn/numa.h"

static cpu_set_t original_affinity;

static int setup(void **state)
{
    unsetenv("DYN_SYSFS_ROOT");
    unsetenv("DYN_MEMORY_DISABLE_NUMA");
    unsetenv("CUDA_VISIBLE_DEVICES");
    setenv("DYN_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
    return sched_getaffinity(0, sizeof original_affinity, &original_affinity);
}

static int restore_affinity(void **state)
{
    return sched_setaffinity(0, sizeof original_affinity, &original_affinity);
}

static dyn_numa_topology *fixture(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/numa/%s/sys", name);
    setenv("DYN_SYSFS_ROOT", test_path(rel), 1);
    dyn_numa_topology *t = NULL;
    dyn_error err = {0};
    if (dyn_numa_topology_load(&t, &err) != DYN_OK)
        fail_msg("fixture %s: %s", name, err.message);
    unsetenv("DYN_SYSFS_ROOT");
    return t;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Must run first: the one-time warning is per process. */
static void pin_refusal_warns_once_and_counts(void **state)
{
    dyn_numa_topology *t = fixture("two-node-8gpu"); /* node 1 = CPUs 16-31,48-63: not here */
    dyn_numa_stats before, after;
    dyn_numa_stats_get(&before);

    char path[] = "/tmp/dyn-numa-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    dyn_numa_pin_result r = {.pinned = 7};
    dyn_error err = {0};
    int cpu_before = dyn_numa_current_cpu();
    dyn_status st1 = dyn_numa_pin_self_to_node(t, 1, &r, &err);
    dyn_status st2 = dyn_numa_pin_self_to_node(t, 1, NULL, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    assert_int_equal(st1, DYN_ERR_UNAVAILABLE);
    assert_int_equal(st2, DYN_ERR_UNAVAILABLE);
    assert_int_equal(r.pinned, 0);
    assert_true(r.cpu >= 0);
    assert_non_null(strstr(err.message, "cannot pin to CPUs [16-31,48-63]"));
    dyn_numa_stats_get(&after);
    assert_int_equal(after.pin_refused - before.pin_refused, 2);
    /* The thread kept running where it may: still on an allowed CPU. */
    assert_true(CPU_ISSET(dyn_numa_current_cpu(), &original_affinity));
    (void)cpu_before;

    char buf[4096] = {0};
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    size_t warnings = 0;
    for (const char *p = buf; (p = strstr(p, "cannot pin threads")); p++)
        warnings++;
    assert_int_equal(warnings, 1);

    char metrics[2048];
    dyn_numa_metrics_format(metrics, sizeof metrics);
    char want[64];
    snprintf(want, sizeof want, "dyn_numa_pin_refused_total %llu\n", (unsigned long long)after.pin_refused);
    assert_non_null(strstr(metrics, want));
    assert_non_null(strstr(metrics, "# TYPE dyn_numa_pin_refused_total counter\n"));
    dyn_numa_topology_free(t);
}

static void alloc_256mib_on_node0_every_page_local(void **state)
{
    const size_t size = 256u << 20;
    dyn_numa_buffer b;
    dyn_error err = {0};
    dyn_status st = dyn_numa_alloc(size, 0, NULL, &b, &err);
    if (st)
        fail_msg("alloc: %s", err.message);
    long page = sysconf(_SC_PAGESIZE);
    assert_int_equal(b.size, size);
    assert_int_equal((uintptr_t)b.data % (uintptr_t)page, 0);
    assert_int_equal(b.node, 0);
    assert_int_equal(b.pages, DYN_NUMA_PAGES_BASE);
    assert_true(b.policy_applied);
    assert_true(b.threads >= 1);
    assert_int_equal(b.pinned, b.threads); /* node 0's CPUs are ours here */

    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(b.data, b.size, 0, &loc, &err), DYN_OK);
    assert_int_equal(loc.pages, size / (size_t)page);
    assert_int_equal(loc.on_node, loc.pages);
    assert_int_equal(loc.other_node, 0);
    assert_int_equal(loc.not_present, 0);
    assert_true(loc.fraction == 1.0);
    /* Asked about a node the pages are not on, the answer is 0, not 1. */
    assert_int_equal(dyn_numa_verify(b.data, b.size, 1, &loc, &err), DYN_OK);
    assert_int_equal(loc.on_node, 0);
    assert_true(loc.fraction == 0.0);

    assert_true(all_zero(b.data, b.size));
    memset(b.data, 0xab, b.size); /* writable end to end */
    dyn_numa_free(&b);
    assert_null(b.data);
    dyn_numa_free(&b); /* twice is harmless */
}

static void alloc_huge_pages(void **state)
{
    dyn_numa_alloc_opts o = {.huge_pages = 1};
    dyn_numa_buffer b;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_alloc(5u << 20, 0, &o, &b, &err), DYN_OK);
    assert_true(b.pages == DYN_NUMA_PAGES_HUGETLB || b.pages == DYN_NUMA_PAGES_THP);
    assert_int_equal(b.page_size, 2u << 20);
    assert_int_equal(b.size, 6u << 20); /* rounded up to whole huge pages */
    assert_int_equal((uintptr_t)b.data % (2u << 20), 0);
    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(b.data, b.size, 0, &loc, &err), DYN_OK);
    assert_true(loc.fraction == 1.0);
    assert_true(all_zero(b.data, b.size));
    dyn_numa_free(&b);
}

static void alloc_rejects_bad_requests(void **state)
{
    dyn_numa_buffer b;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_alloc(0, 0, NULL, &b, &err), DYN_ERR_INVALID);
    assert_string_equal(err.message, "cannot allocate 0 bytes");
    assert_null(b.data);
    assert_int_equal(dyn_numa_alloc(4096, -2, NULL, &b, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_numa_alloc(4096, DYN_NUMA_MAX_NODES, NULL, &b, &err), DYN_ERR_INVALID);
    const dyn_numa_topology *t;
    assert_int_equal(dyn_numa_topology_shared(&t, NULL), DYN_OK);
    int missing = (int)t->node_count + 7;
    assert_int_equal(dyn_numa_alloc(4096, missing, NULL, &b, &err), DYN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "does not exist"));
    assert_null(b.data);
}

static void alloc_any_node_and_disabled(void **state)
{
    dyn_numa_buffer b;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_alloc(3 * 4096 + 1, DYN_NUMA_NODE_ANY, NULL, &b, &err), DYN_OK);
    assert_int_equal(b.node, DYN_NUMA_NODE_ANY);
    assert_false(b.policy_applied);
    assert_int_equal(b.pinned, 0);
    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(b.data, b.size, 0, &loc, NULL), DYN_OK);
    assert_int_equal(loc.not_present, 0); /* prefaulted all the same */
    dyn_numa_free(&b);

    setenv("DYN_MEMORY_DISABLE_NUMA", "true", 1);
    assert_int_equal(dyn_numa_alloc(1u << 20, 0, NULL, &b, &err), DYN_OK);
    unsetenv("DYN_MEMORY_DISABLE_NUMA");
    assert_int_equal(b.node, DYN_NUMA_NODE_ANY); /* placement off: no claim of node 0 */
    assert_false(b.policy_applied);
    dyn_numa_free(&b);
}

static void verify_reports_untouched_pages(void **state)
{
    size_t len = 1u << 20;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(p, len, 0, &loc, NULL), DYN_OK);
    assert_int_equal(loc.pages, len / (size_t)sysconf(_SC_PAGESIZE));
    assert_int_equal(loc.not_present, loc.pages);
    assert_true(loc.fraction == 0.0);
    ((char *)p)[0] = 1;
    assert_int_equal(dyn_numa_verify((char *)p + 10, 1, 0, &loc, NULL), DYN_OK);
    assert_int_equal(loc.pages, 1);
    assert_int_equal(loc.on_node, 1);
    munmap(p, len);
}

static void pin_to_node0_checked_with_getcpu(void **state)
{
    const dyn_numa_topology *t;
    assert_int_equal(dyn_numa_topology_shared(&t, NULL), DYN_OK);
    dyn_numa_pin_result r;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_pin_self_to_node(t, 0, &r, &err), DYN_OK);
    assert_true(r.pinned);
    assert_int_equal(r.node, 0);
    assert_int_equal(dyn_numa_current_node(), 0);
    cpu_set_t now;
    sched_getaffinity(0, sizeof now, &now);
    const dyn_numa_node *n = dyn_numa_topology_node(t, 0);
    assert_int_equal(CPU_COUNT(&now), (int)n->cpus.count);
    int found = 0;
    for (size_t i = 0; i < n->cpus.count; i++)
        found |= n->cpus.ids[i] == dyn_numa_current_cpu();
    assert_true(found);
}

static void pin_respects_restricted_affinity(void **state)
{
    if (CPU_COUNT(&original_affinity) < 2)
        skip();
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &original_affinity))
            last = c;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    dyn_numa_topology *t;
    assert_int_equal(dyn_numa_topology_load(&t, NULL), DYN_OK);
    assert_int_equal(t->usable.count, 1);
    assert_int_equal(t->usable.ids[0], last);
    int node = dyn_numa_current_node();
    dyn_numa_cpus cpus;
    assert_int_equal(dyn_numa_node_usable_cpus(t, node, &cpus, NULL), DYN_OK);
    assert_int_equal(cpus.count, 1);
    dyn_numa_pin_result r;
    assert_int_equal(dyn_numa_pin_self(&cpus, &r, NULL), DYN_OK);
    assert_true(r.pinned);
    assert_int_equal(r.cpu, last);
    free(cpus.ids);
    dyn_numa_topology_free(t);
}

static void *report_node(void *arg)
{
    *(int *)arg = dyn_numa_current_node();
    return NULL;
}

static void worker_thread_on_node(void **state)
{
    const dyn_numa_topology *t;
    assert_int_equal(dyn_numa_topology_shared(&t, NULL), DYN_OK);
    pthread_t th;
    int node = -5;
    assert_int_equal(dyn_numa_thread_create(&th, t, 0, report_node, &node, NULL), DYN_OK);
    pthread_join(th, NULL);
    assert_int_equal(node, 0);
    dyn_error err = {0};
    assert_int_equal(dyn_numa_thread_create(&th, t, 999, report_node, &node, &err), DYN_ERR_NOT_FOUND);
}

/* Pins refused (fixture CPUs 2-4 do not exist here) but the node policy still places the
 * pages; the buffer says nothing was pinned. */
static void alloc_carries_on_when_pinning_is_refused(void **state)
{
    dyn_numa_topology *t = fixture("restricted-cpuset");
    dyn_numa_stats before, after;
    dyn_numa_stats_get(&before);
    dyn_numa_alloc_opts o = {.topology = t};
    dyn_numa_buffer b;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_alloc(64u << 20, 0, &o, &b, &err), DYN_OK);
    assert_true(b.threads >= 1);
    assert_int_equal(b.pinned, 0);
    assert_true(b.policy_applied);
    dyn_numa_stats_get(&after);
    assert_int_equal(after.pin_refused - before.pin_refused, b.threads);
    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(b.data, b.size, 0, &loc, NULL), DYN_OK);
    assert_true(loc.fraction == 1.0);
    dyn_numa_free(&b);
    dyn_numa_topology_free(t);
}

static void alloc_for_gpu(void **state)
{
    dyn_numa_topology *t = fixture("two-node-8gpu");
    dyn_numa_alloc_opts o = {.topology = t};
    dyn_numa_buffer b;
    dyn_error err = {0};
    /* GPU 0 is on node 0, which this machine has. */
    assert_int_equal(dyn_numa_alloc_for_gpu(32u << 20, 0, &o, &b, &err), DYN_OK);
    assert_int_equal(b.node, 0);
    dyn_numa_locality loc;
    assert_int_equal(dyn_numa_verify(b.data, b.size, 0, &loc, NULL), DYN_OK);
    assert_true(loc.fraction == 1.0);
    dyn_numa_free(&b);

    /* GPU 4 is on node 1, which this kernel lacks: mbind and pins are refused, the memory
     * still comes, and nothing claims it is on node 1. */
    if (dyn_numa_topology_node(t, 1) && dyn_numa_current_node() == 0) {
        dyn_numa_stats before, after;
        dyn_numa_stats_get(&before);
        assert_int_equal(dyn_numa_alloc_for_gpu(1u << 20, 4, &o, &b, &err), DYN_OK);
        dyn_numa_stats_get(&after);
        if (access("/sys/devices/system/node/node1", F_OK) != 0) {
            assert_false(b.policy_applied);
            assert_int_equal(b.pinned, 0);
            assert_int_equal(after.policy_refused - before.policy_refused, 1);
            assert_int_equal(dyn_numa_verify(b.data, b.size, 1, &loc, NULL), DYN_OK);
            assert_true(loc.fraction == 0.0);
        }
        dyn_numa_free(&b);
    }
    assert_int_equal(dyn_numa_alloc_for_gpu(4096, 8, &o, &b, &err), DYN_ERR_NOT_FOUND);
    assert_null(b.data);
    dyn_numa_topology_free(t);

    /* GPU with no known node: plain memory, no claim. */
    setenv("DYN_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
    t = fixture("no-numa");
    o.topology = t;
    assert_int_equal(dyn_numa_alloc_for_gpu(4096, 0, &o, &b, &err), DYN_OK);
    assert_int_equal(b.node, DYN_NUMA_NODE_ANY);
    assert_non_null(b.data);
    dyn_numa_free(&b);
    dyn_numa_topology_free(t);
}

static void cuda_hook_without_driver(void **state)
{
    dyn_error err = {0};
    char buf[4096];
    dyn_status st = dyn_numa_cuda_register(buf, sizeof buf, 0, &err);
    if (access("/dev/nvidiactl", F_OK) == 0)
        skip(); /* a real driver: covered by GPU machines, not this test */
    assert_int_equal(st, DYN_ERR_UNAVAILABLE);
    assert_true(strstr(err.message, "libcuda.so.1") || strstr(err.message, "without CUDA headers") ||
                strstr(err.message, "cuInit"));
    assert_int_equal(dyn_numa_cuda_unregister(buf, &err), DYN_ERR_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(pin_refusal_warns_once_and_counts, restore_affinity),
        cmocka_unit_test(alloc_256mib_on_node0_every_page_local),
        cmocka_unit_test(alloc_huge_pages),
        cmocka_unit_test(alloc_rejects_bad_requests),
        cmocka_unit_test(alloc_any_node_and_disabled),
        cmocka_unit_test(verify_reports_untouched_pages),
        cmocka_unit_test_teardown(pin_to_node0_checked_with_getcpu, restore_affinity),
        cmocka_unit_test_teardown(pin_respects_restricted_affinity, restore_affinity),
        cmocka_unit_test(worker_thread_on_node),
        cmocka_unit_test(alloc_carries_on_when_pinning_is_refused),
        cmocka_unit_test(alloc_for_gpu),
        cmocka_unit_test(cuda_hook_without_driver),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
