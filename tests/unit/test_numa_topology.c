/* Topology from the fixture sysfs trees in tests/data/numa (see make-fixtures.sh there), with
 * exact expected nodes, GPUs, node sources and CPU slices. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dyn/numa.h"

static char smi_ok[4096], smi_fail[4096], smi_log[64];

static void use_fixture(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/numa/%s/sys", name);
    setenv("DYN_SYSFS_ROOT", test_path(rel), 1);
}

static dyn_numa_topology *load_ok(void)
{
    dyn_numa_topology *t = NULL;
    dyn_error err = {0};
    dyn_status st = dyn_numa_topology_load(&t, &err);
    if (st != DYN_OK)
        fail_msg("load failed: %s", err.message);
    return t;
}

static void expect_cpus(const dyn_numa_cpus *c, const char *want)
{
    char buf[256];
    assert_string_equal(dyn_numa_cpulist_format(c, buf, sizeof buf), want);
}

static size_t smi_calls(void)
{
    FILE *f = fopen(smi_log, "r");
    if (!f)
        return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static int setup(void **state)
{
    snprintf(smi_ok, sizeof smi_ok, "%s", test_path("tests/data/numa/fake-smi/ok/nvidia-smi"));
    snprintf(smi_fail, sizeof smi_fail, "%s", test_path("tests/data/numa/fake-smi/fail/nvidia-smi"));
    snprintf(smi_log, sizeof smi_log, "/tmp/dyn-numa-smi-%ld.log", (long)getpid());
    unlink(smi_log);
    setenv("FAKE_SMI_LOG", smi_log, 1);
    setenv("DYN_NVIDIA_SMI", smi_ok, 1);
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("DYN_MEMORY_DISABLE_NUMA");
    return 0;
}

static int teardown(void **state)
{
    unlink(smi_log);
    return 0;
}

static void one_node_no_gpu(void **state)
{
    use_fixture("one-node");
    dyn_numa_topology *t = load_ok();
    assert_int_equal(t->node_count, 1);
    assert_int_equal(t->nodes[0].id, 0);
    expect_cpus(&t->nodes[0].cpus, "0-7");
    assert_int_equal(t->nodes[0].memory_bytes, 32768000ull * 1024);
    expect_cpus(&t->usable, "0-7");
    assert_true(t->numa_enabled);
    /* Intel VGA and an NVIDIA audio function: neither is a GPU. */
    assert_int_equal(t->gpu_count, 0);
    assert_int_equal(t->visible_count, 0);
    dyn_numa_topology_free(t);
}

static void two_nodes_eight_gpus(void **state)
{
    use_fixture("two-node-8gpu");
    unlink(smi_log);
    dyn_numa_topology *t = load_ok();
    assert_int_equal(t->node_count, 2);
    expect_cpus(&t->nodes[0].cpus, "0-15,32-47");
    expect_cpus(&t->nodes[1].cpus, "16-31,48-63");
    assert_int_equal(t->nodes[1].memory_bytes, 264241152ull * 1024);
    assert_int_equal(t->gpu_count, 8); /* not the audio function, NVSwitch or the NIC */
    static const char *pci[] = {"0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
                                "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"};
    static const unsigned cls[] = {0x030200, 0x030000, 0x030200, 0x030200,
                                   0x030200, 0x030000, 0x030200, 0x030200};
    static const char *slice[] = {"0-7", "8-15", "32-39", "40-47", "16-23", "24-31", "48-55", "56-63"};
    for (int i = 0; i < 8; i++) {
        const dyn_numa_gpu *g = &t->gpus[i];
        assert_string_equal(g->pci, pci[i]);
        assert_int_equal(g->class_code, cls[i]);
        assert_int_equal(g->host_index, i);
        assert_int_equal(g->cuda_ordinal, i);
        assert_int_equal(g->numa_node, i < 4 ? 0 : 1);
        assert_int_equal(g->source, DYN_NUMA_SOURCE_SYSFS);
        assert_string_equal(g->uuid, "");
        expect_cpus(&g->cpus, slice[i]);
    }
    /* sysfs knew every node: nvidia-smi must not have been asked. */
    assert_int_equal(smi_calls(), 0);
    const dyn_numa_gpu *g;
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 5, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "0000:90:00.0");
    dyn_error err = {0};
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 8, &g, &err), DYN_ERR_NOT_FOUND);
    assert_string_equal(err.message, "CUDA device 8 is not visible (8 visible)");
    dyn_numa_cpus u;
    assert_int_equal(dyn_numa_node_usable_cpus(t, 1, &u, NULL), DYN_OK);
    expect_cpus(&u, "16-31,48-63");
    free(u.ids);
    assert_int_equal(dyn_numa_node_usable_cpus(t, 2, &u, &err), DYN_ERR_NOT_FOUND);
    assert_string_equal(err.message, "NUMA node 2 does not exist (2 nodes)");
    dyn_numa_topology_free(t);
}

static void visible_by_index(void **state)
{
    use_fixture("two-node-8gpu");
    setenv("CUDA_VISIBLE_DEVICES", "4,5", 1);
    dyn_numa_topology *t = load_ok();
    unsetenv("CUDA_VISIBLE_DEVICES");
    assert_int_equal(t->visible_count, 2);
    const dyn_numa_gpu *g;
    /* CUDA device 0 is host GPU 4: node 1, not node 0 as "ordinal = host index" would say. */
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 0, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "0000:87:00.0");
    assert_int_equal(g->numa_node, 1);
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 1, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "0000:90:00.0");
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 2, &g, NULL), DYN_ERR_NOT_FOUND);
    assert_int_equal(t->gpus[0].cuda_ordinal, -1);
    assert_int_equal(t->gpus[4].cuda_ordinal, 0);
    assert_string_equal(t->visible_note, "");
    dyn_numa_topology_free(t);
}

static void visible_by_uuid(void **state)
{
    use_fixture("two-node-8gpu");
    /* A full UUID, a unique prefix, then an entry that names nothing: CUDA stops there. */
    setenv("CUDA_VISIBLE_DEVICES", "GPU-51111111-2222-3333-4444-555555555555,GPU-6,GPU-ffff,2", 1);
    dyn_numa_topology *t = load_ok();
    unsetenv("CUDA_VISIBLE_DEVICES");
    assert_int_equal(t->visible_count, 2);
    const dyn_numa_gpu *g;
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 0, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "0000:90:00.0");
    assert_string_equal(g->uuid, "GPU-51111111-2222-3333-4444-555555555555");
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 1, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "0000:b7:00.0");
    assert_string_equal(t->visible_note, "no GPU has UUID 'GPU-ffff'");
    assert_int_equal(t->gpus[2].cuda_ordinal, -1);
    dyn_numa_topology_free(t);

    setenv("CUDA_VISIBLE_DEVICES", "GPU-", 1); /* prefix of all eight */
    t = load_ok();
    assert_int_equal(t->visible_count, 0);
    assert_string_equal(t->visible_note, "'GPU-' matches more than one GPU");
    dyn_numa_topology_free(t);

    setenv("DYN_NVIDIA_SMI", smi_fail, 1); /* UUIDs cannot be resolved without nvidia-smi */
    setenv("CUDA_VISIBLE_DEVICES", "1,GPU-0", 1);
    t = load_ok();
    setenv("DYN_NVIDIA_SMI", smi_ok, 1);
    assert_int_equal(t->visible_count, 1);
    assert_string_equal(t->gpus[1].pci, "0000:0f:00.0");
    assert_int_equal(t->gpus[1].cuda_ordinal, 0);
    assert_string_equal(t->visible_note, "cannot resolve 'GPU-0': nvidia-smi --query-gpu exited with 9");
    dyn_numa_topology_free(t);

    const char *cases[][2] = {
        {"", "CUDA_VISIBLE_DEVICES is empty"},
        {"-1", "entry '-1' names no GPU (8 on this host)"},
        {"0,0", "entry '0' repeats a GPU"},
        {"MIG-abc", "MIG instance 'MIG-abc' is not mapped to a GPU"},
        {"0,,1", "empty entry in CUDA_VISIBLE_DEVICES"},
    };
    const size_t want[] = {0, 0, 1, 0, 1};
    for (size_t i = 0; i < 5; i++) {
        setenv("CUDA_VISIBLE_DEVICES", cases[i][0], 1);
        t = load_ok();
        assert_int_equal(t->visible_count, want[i]);
        assert_string_equal(t->visible_note, cases[i][1]);
        dyn_numa_topology_free(t);
    }
    unsetenv("CUDA_VISIBLE_DEVICES");
}

static void restricted_cpuset(void **state)
{
    use_fixture("restricted-cpuset");
    dyn_numa_topology *t = load_ok();
    expect_cpus(&t->nodes[0].cpus, "0-7");
    expect_cpus(&t->usable, "2-4,8");
    assert_int_equal(t->gpu_count, 3);
    /* Slices come from the usable CPUs: 3 on node 0 for 2 GPUs, the last takes the rest. */
    expect_cpus(&t->gpus[0].cpus, "2");
    expect_cpus(&t->gpus[1].cpus, "3-4");
    expect_cpus(&t->gpus[2].cpus, "8");
    dyn_numa_topology_free(t);
}

static void numa_from_nvidia_smi(void **state)
{
    use_fixture("numa-unknown");
    unlink(smi_log);
    dyn_numa_topology *t = load_ok();
    assert_int_equal(t->gpu_count, 3);
    assert_int_equal(t->gpus[0].numa_node, 0);
    assert_int_equal(t->gpus[0].source, DYN_NUMA_SOURCE_NVIDIA_SMI);
    assert_int_equal(t->gpus[1].numa_node, 1);
    assert_int_equal(t->gpus[1].source, DYN_NUMA_SOURCE_NVIDIA_SMI);
    /* nvidia-smi does not know the third (exit 6): the even/odd guess, marked as one. */
    assert_int_equal(t->gpus[2].numa_node, 0);
    assert_int_equal(t->gpus[2].source, DYN_NUMA_SOURCE_GUESS);
    expect_cpus(&t->gpus[0].cpus, "0-1");
    expect_cpus(&t->gpus[1].cpus, "4-7");
    expect_cpus(&t->gpus[2].cpus, "2-3");
    assert_int_equal(smi_calls(), 3);
    FILE *f = fopen(smi_log, "r");
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    /* Asked by PCI address, never by CUDA ordinal. */
    assert_string_equal(line, "topo --get-numa-id-of-nearby-cpu -i 0000:3b:00.0\n");
    dyn_numa_topology_free(t);
}

static void nvidia_smi_on_path(void **state)
{
    use_fixture("numa-unknown");
    unsetenv("DYN_NVIDIA_SMI");
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "/usr/bin:/bin");
    char path[8192];
    snprintf(path, sizeof path, "%s:%s", test_path("tests/data/numa/fake-smi/ok"), saved);
    setenv("PATH", path, 1);
    dyn_numa_topology *t = load_ok();
    setenv("PATH", saved, 1);
    free(saved);
    setenv("DYN_NVIDIA_SMI", smi_ok, 1);
    assert_int_equal(t->gpus[1].numa_node, 1);
    assert_int_equal(t->gpus[1].source, DYN_NUMA_SOURCE_NVIDIA_SMI);
    dyn_numa_topology_free(t);
}

static void guess_when_nvidia_smi_fails(void **state)
{
    use_fixture("numa-unknown");
    setenv("DYN_NVIDIA_SMI", smi_fail, 1);
    dyn_numa_topology *t = load_ok();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t->gpus[i].source, DYN_NUMA_SOURCE_GUESS);
        assert_int_equal(t->gpus[i].numa_node, i % 2);
    }
    assert_string_equal(dyn_numa_source_name(t->gpus[0].source), "guess");
    dyn_numa_topology_free(t);

    /* A program that does not exist is tried once, not once per GPU. */
    setenv("DYN_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
    t = load_ok();
    assert_int_equal(t->gpus[1].source, DYN_NUMA_SOURCE_GUESS);
    dyn_numa_topology_free(t);
    setenv("DYN_NVIDIA_SMI", smi_ok, 1);
}

static void eight_digit_domains(void **state)
{
    use_fixture("domain8");
    setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb", 1);
    dyn_numa_topology *t = load_ok();
    unsetenv("CUDA_VISIBLE_DEVICES");
    assert_int_equal(t->gpu_count, 2);
    assert_string_equal(t->gpus[0].pci, "00000000:3b:00.0");
    assert_string_equal(t->gpus[1].pci, "00010000:01:00.0");
    assert_int_equal(t->gpus[1].numa_node, 1);
    assert_int_equal(t->visible_count, 1);
    const dyn_numa_gpu *g;
    assert_int_equal(dyn_numa_gpu_for_ordinal(t, 0, &g, NULL), DYN_OK);
    assert_string_equal(g->pci, "00010000:01:00.0"); /* "00010000:01:00.0" in nvidia-smi's CSV */
    assert_string_equal(t->gpus[0].uuid, "GPU-aaaaaaaa-0000-0000-0000-000000000000");
    dyn_numa_topology_free(t);
}

static void malformed_cpulist_is_an_error(void **state)
{
    use_fixture("malformed");
    dyn_numa_topology *t = (dyn_numa_topology *)1;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_topology_load(&t, &err), DYN_ERR_INVALID);
    assert_null(t);
    assert_non_null(strstr(err.message, "/devices/system/node/node1/cpulist: malformed cpulist at "
                                        "column 3: range end is below its start"));
}

static void no_numa_and_disabled(void **state)
{
    use_fixture("no-numa");
    setenv("DYN_NVIDIA_SMI", smi_fail, 1);
    dyn_numa_topology *t = load_ok();
    setenv("DYN_NVIDIA_SMI", smi_ok, 1);
    assert_int_equal(t->node_count, 0);
    assert_false(t->numa_enabled);
    assert_non_null(strstr(t->disabled_reason, "no NUMA nodes under"));
    expect_cpus(&t->usable, "0-3");
    assert_int_equal(t->gpu_count, 1);
    assert_int_equal(t->gpus[0].numa_node, -1); /* no node to guess */
    assert_int_equal(t->gpus[0].source, DYN_NUMA_SOURCE_UNKNOWN);
    assert_int_equal(t->gpus[0].cpus.count, 0);
    dyn_numa_topology_free(t);

    use_fixture("two-node-8gpu");
    setenv("DYN_MEMORY_DISABLE_NUMA", "yes", 1);
    t = load_ok();
    unsetenv("DYN_MEMORY_DISABLE_NUMA");
    assert_false(t->numa_enabled);
    assert_string_equal(t->disabled_reason, "DYN_MEMORY_DISABLE_NUMA is set");
    assert_int_equal(t->gpus[7].numa_node, 1); /* still reported truthfully */
    dyn_numa_topology_free(t);

    setenv("DYN_SYSFS_ROOT", "/nonexistent/sys", 1);
    dyn_error err = {0};
    assert_int_equal(dyn_numa_topology_load(&t, &err), DYN_ERR_IO);
    assert_string_equal(err.message, "sysfs root /nonexistent/sys: No such file or directory");
}

static void live_host(void **state)
{
    unsetenv("DYN_SYSFS_ROOT");
    dyn_numa_topology *t = load_ok();
    assert_true(t->live);
    assert_true(t->node_count >= 1);
    assert_true(t->usable.count >= 1);
    /* Every usable CPU belongs to some node. */
    for (size_t i = 0; i < t->usable.count; i++) {
        int found = 0;
        for (size_t n = 0; n < t->node_count; n++)
            for (size_t c = 0; c < t->nodes[n].cpus.count; c++)
                found |= t->nodes[n].cpus.ids[c] == t->usable.ids[i];
        assert_true(found);
    }
    dyn_numa_topology_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_node_no_gpu),
        cmocka_unit_test(two_nodes_eight_gpus),
        cmocka_unit_test(visible_by_index),
        cmocka_unit_test(visible_by_uuid),
        cmocka_unit_test(restricted_cpuset),
        cmocka_unit_test(numa_from_nvidia_smi),
        cmocka_unit_test(nvidia_smi_on_path),
        cmocka_unit_test(guess_when_nvidia_smi_fails),
        cmocka_unit_test(eight_digit_domains),
        cmocka_unit_test(malformed_cpulist_is_an_error),
        cmocka_unit_test(no_numa_and_disabled),
        cmocka_unit_test(live_host),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
