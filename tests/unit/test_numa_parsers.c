/* The text parsers of src/numa: cpulist syntax, nvidia-smi output, PCI addresses. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "dyn/numa.h"

static void expect_cpus(const char *text, const int *want, size_t n)
{
    dyn_numa_cpus c;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_cpulist_parse(text, strlen(text), &c, &err), DYN_OK);
    assert_int_equal(c.count, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c.ids[i], want[i]);
    free(c.ids);
}

static void expect_bad(const char *text, const char *message)
{
    dyn_numa_cpus c;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_cpulist_parse(text, strlen(text), &c, &err), DYN_ERR_INVALID);
    assert_null(c.ids);
    assert_int_equal(c.count, 0);
    assert_string_equal(err.message, message);
}

static void cpulist_valid(void **state)
{
    expect_cpus("0-3,8,10-11\n", (int[]){0, 1, 2, 3, 8, 10, 11}, 7);
    expect_cpus("5", (int[]){5}, 1);
    expect_cpus("  3,1-2,2 \n", (int[]){1, 2, 3}, 3); /* sorted, deduplicated */
    expect_cpus("0-15:2/4", (int[]){0, 1, 4, 5, 8, 9, 12, 13}, 8);
    expect_cpus("65535", (int[]){65535}, 1);
    expect_cpus("\n", NULL, 0); /* a memory-only node */
    expect_cpus("", NULL, 0);
}

static void cpulist_malformed(void **state)
{
    expect_bad(",", "malformed cpulist at column 1: expected a CPU number");
    expect_bad("0-3,", "malformed cpulist at column 5: expected a CPU number");
    expect_bad("0-3,,5", "malformed cpulist at column 5: expected a CPU number");
    expect_bad("7-4", "malformed cpulist at column 3: range end is below its start");
    expect_bad("-1", "malformed cpulist at column 1: expected a CPU number");
    expect_bad("1--2", "malformed cpulist at column 3: expected a CPU number");
    expect_bad("a", "malformed cpulist at column 1: expected a CPU number");
    expect_bad("1 2", "malformed cpulist at column 2: expected ',' between CPU ranges");
    expect_bad("65536", "malformed cpulist at column 5: CPU number too large (limit 65535)");
    expect_bad("0-99999999999999999999", "malformed cpulist at column 7: CPU number too large (limit 65535)");
    expect_bad("0-7:3", "malformed cpulist at column 6: expected '/' in a used/group stride");
    expect_bad("0-7:3/2", "malformed cpulist at column 7: stride needs 0 < used <= group");
    expect_bad("0-7:0/2", "malformed cpulist at column 7: stride needs 0 < used <= group");
    /* Not NUL-terminated: the length is honoured. */
    dyn_numa_cpus c;
    assert_int_equal(dyn_numa_cpulist_parse("1,2garbage", 3, &c, NULL), DYN_OK);
    assert_int_equal(c.count, 2);
    free(c.ids);
}

static void cpulist_format(void **state)
{
    char buf[64];
    dyn_numa_cpus c = {(int[]){0, 1, 2, 3, 8, 10, 11, 32}, 8};
    assert_string_equal(dyn_numa_cpulist_format(&c, buf, sizeof buf), "0-3,8,10-11,32");
    dyn_numa_cpus empty = {NULL, 0};
    assert_string_equal(dyn_numa_cpulist_format(&empty, buf, sizeof buf), "");
    /* Too small: cut with "..." instead of a list that looks complete. */
    assert_string_equal(dyn_numa_cpulist_format(&c, buf, 10), "0-3,8...");
}

static void smi_node(void **state)
{
    int node;
    dyn_error err = {0};
    const char *ok = "NUMA ID of nearby CPU: 1\n";
    assert_int_equal(dyn_numa_smi_parse_node(ok, strlen(ok), &node, &err), DYN_OK);
    assert_int_equal(node, 1);
    const char *two = "NUMA ID of nearby CPU: 3\r\nsomething else: 7\n";
    assert_int_equal(dyn_numa_smi_parse_node(two, strlen(two), &node, &err), DYN_OK);
    assert_int_equal(node, 3);
    const char *third = "a: 2 :b"; /* the second ':' field, as the original splits */
    assert_int_equal(dyn_numa_smi_parse_node(third, strlen(third), &node, &err), DYN_OK);
    assert_int_equal(node, 2);

    const char *na = "NUMA ID of nearby CPU: N/A\n";
    assert_int_equal(dyn_numa_smi_parse_node(na, strlen(na), &node, &err), DYN_ERR_INVALID);
    assert_int_equal(node, -1);
    assert_string_equal(err.message, "nvidia-smi output: NUMA id 'N/A' is not a number");
    const char *fail = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n";
    assert_int_equal(dyn_numa_smi_parse_node(fail, strlen(fail), &node, &err), DYN_ERR_INVALID);
    assert_string_equal(err.message, "nvidia-smi output: no ':' in the first line");
    assert_int_equal(dyn_numa_smi_parse_node("x:\n", 3, &node, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_numa_smi_parse_node("x: -1", 5, &node, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_numa_smi_parse_node("x: 1024", 7, &node, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_numa_smi_parse_node("", 0, &node, &err), DYN_ERR_INVALID);
    assert_int_equal(dyn_numa_smi_parse_node("\nx: 1", 5, &node, &err), DYN_ERR_INVALID);
}

static void pci_normalize(void **state)
{
    char out[24];
    dyn_error err = {0};
    assert_int_equal(dyn_numa_pci_normalize("00000000:3B:00.0", 16, 4, out, &err), DYN_OK);
    assert_string_equal(out, "0000:3b:00.0");
    assert_int_equal(dyn_numa_pci_normalize("00000000:3B:00.0", 16, 8, out, &err), DYN_OK);
    assert_string_equal(out, "00000000:3b:00.0");
    assert_int_equal(dyn_numa_pci_normalize(" 3b:1f.7\n", 9, 4, out, &err), DYN_OK);
    assert_string_equal(out, "0000:3b:1f.7");
    assert_int_equal(dyn_numa_pci_normalize("10000:01:00.0", 13, 4, out, &err), DYN_OK);
    assert_string_equal(out, "10000:01:00.0"); /* wider than asked: never truncated */

    const char *bad[] = {"", "3b", "zz:00.0", "0000:3b:00", "0000:3b:20.0", "0000:3b:00.8",
                         "0000:3b:00.0x", "000000000:3b:00.0", "0000:3b:00:00.0", "0000:3b:000.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(dyn_numa_pci_normalize(bad[i], strlen(bad[i]), 4, out, &err), DYN_ERR_INVALID);
        assert_non_null(strstr(err.message, "is not a PCI address"));
    }
}

static void smi_uuids(void **state)
{
    const char *csv = "00000000:07:00.0, GPU-01111111-2222-3333-4444-555555555550\n"
                      "\n"
                      "00000000:0F:00.0,GPU-abcdef\n";
    dyn_numa_smi_gpu *rows;
    size_t n;
    dyn_error err = {0};
    assert_int_equal(dyn_numa_smi_parse_uuids(csv, strlen(csv), 4, &rows, &n, &err), DYN_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].pci, "0000:07:00.0");
    assert_string_equal(rows[0].uuid, "GPU-01111111-2222-3333-4444-555555555550");
    assert_string_equal(rows[1].pci, "0000:0f:00.0");
    assert_string_equal(rows[1].uuid, "GPU-abcdef");
    free(rows);

    const char *bad = "00000000:07:00.0, GPU-0\nNo devices were found\n";
    assert_int_equal(dyn_numa_smi_parse_uuids(bad, strlen(bad), 4, &rows, &n, &err), DYN_ERR_INVALID);
    assert_null(rows);
    assert_string_equal(err.message, "nvidia-smi --query-gpu output line 2: expected '<pci bus id>, GPU-<uuid>'");
    const char *nouuid = "00000000:07:00.0, 12345\n";
    assert_int_equal(dyn_numa_smi_parse_uuids(nouuid, strlen(nouuid), 4, &rows, &n, &err), DYN_ERR_INVALID);
}

static void truthy(void **state)
{
    const char *yes[] = {"1", "true", "TRUE", "On", "yes", "YES"};
    const char *no[] = {"0", "false", "", "no", "2", "enabled"};
    for (size_t i = 0; i < 6; i++) {
        setenv("DYN_MEMORY_DISABLE_NUMA", yes[i], 1);
        assert_true(dyn_numa_disabled_by_env());
        setenv("DYN_MEMORY_DISABLE_NUMA", no[i], 1);
        assert_false(dyn_numa_disabled_by_env());
    }
    unsetenv("DYN_MEMORY_DISABLE_NUMA");
    assert_false(dyn_numa_disabled_by_env());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpulist_valid),  cmocka_unit_test(cpulist_malformed),
        cmocka_unit_test(cpulist_format), cmocka_unit_test(smi_node),
        cmocka_unit_test(pci_normalize),  cmocka_unit_test(smi_uuids),
        cmocka_unit_test(truthy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
