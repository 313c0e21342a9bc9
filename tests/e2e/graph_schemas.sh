#!/usr/bin/env bash
# Every object rendered for every example and corpus graph validates against the upstream
# schemas (kubernetes-models, @kubernetes-models/istio, the LWS and DCD CRDs), and the output's
# cross-references hold. Run with the default operator settings, an ingress class, and a gateway.
set -uo pipefail
src=${DYN_SOURCE_DIR:?}; dyn=${DYN_BIN:?}
checker=$src/tests/tools/check-objects.mjs
[ -d "$src/tests/tools/node_modules/kubernetes-models" ] || { echo "node tools missing: run scripts/bootstrap"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0 files=0
gw=$tmp/gateway.yaml
printf 'ingress:\n  virtualServiceGateway: istio-system/public\n' >"$gw"
targets=()
for f in "$src"/examples/*.yaml "$src"/tests/data/corpus/*.yaml; do
  for cfg in "" "$src/tests/data/config/ingress.yaml" "$gw"; do
    files=$((files + 1))
    out=$tmp/$files.json
    if ! "$dyn" render -o json -f "$f" ${cfg:+--config "$cfg"} >"$out" 2>"$tmp/err"; then
      echo "FAIL: render $f ${cfg:+with $cfg}"; cat "$tmp/err"; failures=$((failures + 1)); continue
    fi
    targets+=("$out:$f")
  done
done
node "$checker" "${targets[@]}" || failures=$((failures + 1))

# the checker itself must catch broken output
"$dyn" render -o json -f "$src/examples/multinode.yaml" >"$tmp/good.json"
node -e '
const fs = require("fs"); const l = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
for (const o of l.items) {
  if (o.kind === "LeaderWorkerSet") o.spec.unknownField = 1;
  if (o.kind === "Service") o.spec.ports[0].port = "http";
}
fs.writeFileSync(process.argv[2], JSON.stringify(l));' "$tmp/good.json" "$tmp/broken.json"
if node "$checker" "$tmp/broken.json" 2>"$tmp/err"; then echo "FAIL: checker accepted broken output"; failures=$((failures + 1)); fi
grep -q 'must NOT have additional properties "unknownField"' "$tmp/err" || { echo "FAIL: checker missed the unknown LWS field"; failures=$((failures + 1)); }

[ $failures -eq 0 ] && echo "graph_schemas: $files renders valid" || { echo "graph_schemas: $failures failure(s)"; exit 1; }
