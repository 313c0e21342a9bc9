/* The YAML reader: positions, typing, multi-document streams, and every kind of bad input. */
#include "testutil.h"

#include <string.h>

#include "base/diag.h"
#include "base/yaml.h"

typedef struct parsed {
    dyn_yaml_stream s;
    dyn_diags d;
    bool ok;
} parsed;

static void parse_n(parsed *p, const char *text, size_t len)
{
    dyn_diags_init(&p->d);
    p->ok = dyn_yaml_parse(&p->s, "t.yaml", text, len, &p->d);
}

static void parse(parsed *p, const char *text)
{
    parse_n(p, text, strlen(text));
}

static void done(parsed *p)
{
    dyn_yaml_stream_free(&p->s);
    dyn_diags_free(&p->d);
}

static void expect_error(const char *text, int line, int col, const char *message)
{
    parsed p;
    parse(&p, text);
    assert_false(p.ok);
    assert_true(p.d.errors >= 1);
    if (p.d.items[0].line != line || p.d.items[0].col != col || strcmp(p.d.items[0].message, message) != 0)
        fail_msg("want %d:%d %s\ngot  %d:%d %s", line, col, message, p.d.items[0].line, p.d.items[0].col,
                 p.d.items[0].message);
    done(&p);
}

static void positions_are_one_based_and_exact(void **state)
{
    parsed p;
    parse(&p, "a:\n  b: [1, \"two\"]\n  c:\n    - x\n");
    assert_true(p.ok);
    const dyn_node *root = p.s.docs[0];
    assert_int_equal(root->line, 1);
    assert_int_equal(root->col, 1);
    const dyn_node *a = dyn_node_get(root, "a");
    const dyn_node *b = dyn_node_get(a, "b");
    assert_int_equal(b->line, 2);
    assert_int_equal(b->col, 6);
    assert_int_equal(b->items[1]->col, 10); /* the opening quote */
    const dyn_node *c = dyn_node_get(a, "c");
    assert_int_equal(c->items[0]->line, 4);
    assert_int_equal(c->items[0]->col, 7);
    done(&p);
}

static void scalars_follow_the_core_schema(void **state)
{
    parsed p;
    parse(&p, "i: 42\nh: 0x1f\nf: 1.5\nt: true\nn: null\ne:\ns: \"42\"\nw: yes\nq: '~'\nneg: -7\nexp: 1e3\n");
    assert_true(p.ok);
    const dyn_node *r = p.s.docs[0];
    assert_int_equal(dyn_node_find(r, "i")->value->kind, DYN_NODE_INT);
    assert_int_equal(dyn_node_find(r, "i")->value->integer, 42);
    assert_int_equal(dyn_node_find(r, "h")->value->integer, 31);
    assert_int_equal(dyn_node_find(r, "f")->value->kind, DYN_NODE_FLOAT);
    assert_int_equal(dyn_node_find(r, "t")->value->kind, DYN_NODE_BOOL);
    assert_int_equal(dyn_node_find(r, "n")->value->kind, DYN_NODE_NULL);
    assert_int_equal(dyn_node_find(r, "e")->value->kind, DYN_NODE_NULL);
    assert_int_equal(dyn_node_find(r, "s")->value->kind, DYN_NODE_STRING);
    assert_int_equal(dyn_node_find(r, "w")->value->kind, DYN_NODE_STRING); /* YAML 1.2: yes is a string */
    assert_int_equal(dyn_node_find(r, "q")->value->kind, DYN_NODE_STRING);
    assert_int_equal(dyn_node_find(r, "neg")->value->integer, -7);
    assert_int_equal(dyn_node_find(r, "exp")->value->kind, DYN_NODE_FLOAT);
    /* null values count as absent for lookups, but the key is still there */
    assert_null(dyn_node_get(r, "n"));
    assert_non_null(dyn_node_find(r, "n"));
    done(&p);
}

static void several_documents(void **state)
{
    parsed p;
    parse(&p, "# comment only\n---\na: 1\n---\n---\nb: 2\n...\n");
    assert_true(p.ok);
    /* a comment before the first --- is not a document; the empty one between --- lines is */
    assert_int_equal(p.s.n_docs, 3);
    assert_int_equal(p.s.docs[0]->kind, DYN_NODE_MAP);
    assert_int_equal(p.s.docs[1]->kind, DYN_NODE_NULL);
    assert_int_equal(dyn_node_get(p.s.docs[2], "b")->line, 6);
    done(&p);
}

static void anchors_aliases_and_merge_keys(void **state)
{
    parsed p;
    parse(&p, "base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n");
    assert_true(p.ok);
    const dyn_node *r = p.s.docs[0];
    assert_ptr_equal(dyn_node_get(r, "use"), dyn_node_get(r, "base"));
    const dyn_node *m = dyn_node_get(r, "merged");
    assert_int_equal(m->len, 2);
    assert_int_equal(dyn_node_get(m, "x")->integer, 1);
    assert_int_equal(dyn_node_get(m, "y")->integer, 3); /* explicit keys win over merged ones */
    done(&p);
}

/* found by fuzz_graph: an empty list handed memcpy a NULL source */
static void empty_collections(void **state)
{
    parsed p;
    parse(&p, "a: &x []\nb: {}\nc: *x\n");
    assert_true(p.ok);
    assert_int_equal(dyn_node_get(p.s.docs[0], "a")->len, 0);
    assert_int_equal(dyn_node_get(p.s.docs[0], "b")->kind, DYN_NODE_MAP);
    done(&p);
}

static void json_is_yaml(void **state)
{
    parsed p;
    parse(&p, "{\"apiVersion\": \"v1\", \"items\": [1, 2.5, null, true]}");
    assert_true(p.ok);
    assert_int_equal(dyn_node_get(p.s.docs[0], "items")->len, 4);
    done(&p);
}

static void duplicate_keys(void **state)
{
    expect_error("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first at line 1, column 1)");
}

static void tabs_in_indentation(void **state)
{
    expect_error("a:\n\tb: 1\n", 2, 1, "YAML syntax: tab character may not be used as indentation");
}

static void alias_to_nowhere(void **state)
{
    expect_error("a: *missing\n", 1, 4, "alias '*missing' refers to no anchor defined before it");
}

static void recursive_alias(void **state)
{
    expect_error("a: &x [1, *x]\n", 1, 11, "alias '*x' refers to a node that contains it");
}

static void alias_bomb_is_capped(void **state)
{
    /* each level doubles: 2^25 expanded nodes from a few hundred bytes */
    char text[4096] = "a0: &a0 [x, x]\n";
    for (int i = 1; i <= 25; i++) {
        char line[64];
        snprintf(line, sizeof line, "a%d: &a%d [*a%d, *a%d]\n", i, i, i - 1, i - 1);
        strcat(text, line);
    }
    parsed p;
    parse(&p, text);
    assert_false(p.ok);
    assert_non_null(strstr(p.d.items[0].message, "aliases expand the document to more than"));
    done(&p);
}

static void not_yaml(void **state)
{
    expect_error("key: [1, 2\n", 2, 1, "YAML syntax: flow sequence without a closing bracket");
    expect_error("a: \"open\n", 1, 5, "YAML syntax: double-quoted scalar without closing quote");
    expect_error("ok: 1\nbin: \x01\x02", 2, 6, "control character 0x01 is not allowed in YAML");
    parsed p;
    parse_n(&p, "ok: 1\nbin: x\0rest", 18);
    assert_false(p.ok);
    assert_int_equal(p.d.items[0].line, 2);
    assert_int_equal(p.d.items[0].col, 7);
    assert_string_equal(p.d.items[0].message, "input contains a NUL byte: binary data is not YAML");
    done(&p);
}

static void nul_escapes_are_rejected(void **state)
{
    /* found by a review: "g\0BAD" was checked as "g" and rendered as two objects named alike */
    expect_error("a: \"x\\0y\"\n", 1, 4, "a NUL character (\\0) is not allowed in a value or key");
}

static void invalid_utf8(void **state)
{
    expect_error("a: ok\nb: \xc3\x28\n", 2, 4, "input is not valid UTF-8 (byte 0xc3)");
}

static void complex_keys_rejected(void **state)
{
    expect_error("? [a, b]\n: 1\n", 1, 3, "mapping keys must be scalars");
}

static void deep_nesting_is_an_error_not_a_crash(void **state)
{
    char text[2048];
    memset(text, '[', 1000);
    text[1000] = '\0';
    parsed p;
    parse(&p, text);
    assert_false(p.ok);
    done(&p);
}

static void documents_before_an_error_are_kept(void **state)
{
    parsed p;
    parse(&p, "a: 1\n---\nb: [\n");
    assert_false(p.ok);
    assert_int_equal(p.s.n_docs, 1);
    done(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(positions_are_one_based_and_exact),
        cmocka_unit_test(scalars_follow_the_core_schema),
        cmocka_unit_test(several_documents),
        cmocka_unit_test(anchors_aliases_and_merge_keys),
        cmocka_unit_test(empty_collections),
        cmocka_unit_test(json_is_yaml),
        cmocka_unit_test(duplicate_keys),
        cmocka_unit_test(tabs_in_indentation),
        cmocka_unit_test(alias_to_nowhere),
        cmocka_unit_test(recursive_alias),
        cmocka_unit_test(alias_bomb_is_capped),
        cmocka_unit_test(not_yaml),
        cmocka_unit_test(nul_escapes_are_rejected),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(complex_keys_rejected),
        cmocka_unit_test(deep_nesting_is_an_error_not_a_crash),
        cmocka_unit_test(documents_before_an_error_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
