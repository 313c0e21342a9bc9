#!/usr/bin/env bash
# dyn validate / dyn render as a user runs them: exit codes, stdin, JSON output, nothing on
# stdout for invalid input, determinism, and golden output for every example.
# UPDATE_GOLDEN=1 rewrites tests/golden/ (review the diff before committing it).
set -uo pipefail
src=${DYN_SOURCE_DIR:?}; dyn=${DYN_BIN:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_rc() { # expect_rc WANT DESCRIPTION CMD...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [ "$rc" -eq "$want" ] || { fail "$what: exit $rc, want $want"; sed 's/^/  | /' "$tmp/err" | head -20; }
}

cfg=$src/tests/data/config/ingress.yaml
bad=$tmp/bad.yaml
cat >"$bad" <<'YAML'
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: broken
spec:
  pvcs:
    - name: cache
      create: true
  services:
    Frontend:
      componentType: frontend
      replcas: 1
YAML

# exit codes
expect_rc 0 "valid example" "$dyn" validate "$src/examples/agg.yaml"
expect_rc 1 "invalid graph" "$dyn" validate "$bad"
grep -q "^$bad:7:7: error: spec.pvcs\[0\].size: required when create is true$" "$tmp/err" || fail "validate: gcc-style line missing"
grep -q "^$bad:12:7: error: spec.services\[Frontend\].replcas: unknown field \"replcas\" (did you mean \"replicas\"?)$" "$tmp/err" \
  || fail "validate: unknown field line missing"
[ "$(grep -c ': error: ' "$tmp/err")" -eq 4 ] || fail "validate: want all 4 errors at once"
expect_rc 2 "missing file" "$dyn" validate "$tmp/nope.yaml"
grep -q "cannot read $tmp/nope.yaml" "$tmp/err" || fail "missing file message"
expect_rc 2 "no arguments" "$dyn" validate
expect_rc 2 "bad option" "$dyn" render --bogus
expect_rc 2 "bad output format" "$dyn" render -f "$src/examples/agg.yaml" -o xml
expect_rc 2 "unknown command" "$dyn" frobnicate
expect_rc 2 "stdin twice" "$dyn" validate - -
expect_rc 0 "help" "$dyn" validate --help

# warnings alone keep exit 0
warn=$tmp/warn.yaml
sed 's/^  services:/  restart:\n    id: r1\n  services:/' "$src/examples/hello.yaml" >"$warn"
expect_rc 0 "warnings only" "$dyn" validate "$warn"
grep -q "warning: spec.restart: accepted, but dynamo-c does not act on it yet" "$tmp/err" || fail "warning not shown"

# stdin and JSON diagnostics
"$dyn" validate -o json - <"$bad" >"$tmp/diag.json" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "stdin validate exit $rc"
node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const e = d.find(x => x.path === "spec.pvcs[0].size");
if (!Array.isArray(d) || d.length !== 4 || !e || e.file !== "-" || e.line !== 7 || e.column !== 7 ||
    e.severity !== "error" || e.message !== "required when create is true") { console.error(JSON.stringify(d)); process.exit(1); }
' "$tmp/diag.json" || fail "validate -o json content"

# render: invalid input prints diagnostics and nothing on stdout
expect_rc 1 "render invalid" "$dyn" render -f "$bad"
[ -s "$tmp/out" ] && fail "render printed objects for invalid input"
grep -q "nothing rendered" "$tmp/err" || fail "render invalid: no summary"

# render: JSON is one v1 List; YAML is multi-document; same input, same bytes
expect_rc 0 "render json" "$dyn" render -f "$src/examples/disagg.yaml" -o json
node -e 'const l = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (l.kind !== "List" || l.apiVersion !== "v1" || l.items.length < 5) process.exit(1)' "$tmp/out" \
  || fail "render -o json is not a v1 List"
"$dyn" render -f "$src/examples/multinode.yaml" >"$tmp/a.yaml" && "$dyn" render -f "$src/examples/multinode.yaml" >"$tmp/b.yaml"
cmp -s "$tmp/a.yaml" "$tmp/b.yaml" || fail "render is not deterministic"
"$dyn" render -f - <"$src/examples/multinode.yaml" >"$tmp/c.yaml" || fail "render from stdin"
cmp -s "$tmp/a.yaml" "$tmp/c.yaml" || fail "render from stdin differs from file"
[ "$(grep -c '^---$' "$tmp/a.yaml")" -ge 5 ] || fail "render yaml is not multi-document"

# --namespace fills in a missing namespace and conflicts with a different one
"$dyn" render -f "$src/examples/hello.yaml" -n team-a >"$tmp/ns.yaml" || fail "render -n"
grep -q "namespace: team-a" "$tmp/ns.yaml" || fail "--namespace not applied"
expect_rc 1 "namespace conflict" "$dyn" render -f "$src/examples/agg.yaml" -n other

# a bad config file is reported with its position
printf 'ingress:\n  ingresClass: nginx\n' >"$tmp/cfg.yaml"
expect_rc 1 "bad config" "$dyn" validate "$src/examples/hello.yaml" --config "$tmp/cfg.yaml"
grep -q "^$tmp/cfg.yaml:2:3: error: ingress.ingresClass: unknown field" "$tmp/err" || fail "bad config message"

# large inputs stay fast (a quadratic step would take minutes here, not seconds)
node -e '
  const lines = ["apiVersion: nvidia.com/v1alpha1", "kind: DynamoGraphDeployment", "metadata: {name: big}", "spec:",
                 "  services:", "    w:", "      componentType: worker", "      envs:"];
  for (let i = 0; i < 50000; i++) lines.push(`        - {name: E${i}, value: v}`);
  console.log(lines.join("\n"));' >"$tmp/big.yaml"
timeout 20 "$dyn" render -f "$tmp/big.yaml" >/dev/null || fail "50,000 env entries: render did not finish within 20 s"
node -e 'const l = ["a:"]; for (let i = 0; i < 200000; i++) l.push(`  k${i}: 1`); l.push("  k7: 2"); console.log(l.join("\n"));' >"$tmp/wide.yaml"
timeout 20 "$dyn" validate "$tmp/wide.yaml" >/dev/null 2>"$tmp/err"
grep -q "duplicate key 'k7' (first at line 9, column 3)" "$tmp/err" || fail "200,000 keys: duplicate not found in time"

# goldens: every example rendered with the test operator settings
for ex in "$src"/examples/*.yaml; do
  name=$(basename "$ex" .yaml)
  golden=$src/tests/golden/$name.yaml
  "$dyn" render -f "$ex" --config "$cfg" >"$tmp/$name.yaml" 2>"$tmp/$name.err" || { fail "render $name"; continue; }
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$tmp/$name.yaml" "$golden"; continue; fi
  diff -u "$golden" "$tmp/$name.yaml" >"$tmp/$name.diff" || { fail "golden $name differs"; head -40 "$tmp/$name.diff"; }
done

[ $failures -eq 0 ] && echo "graph_cli: all checks passed" || { echo "graph_cli: $failures failure(s)"; exit 1; }
