#!/usr/bin/env bash
# nats.js (npm) calls a libdyn endpoint served by the rt_worker test program, using only the
# published wire format. Starts its own nats-server and etcd on free ports; cleans up always.
set -euo pipefail
: "${DYN_SOURCE_DIR:?}" "${DYN_BUILD_DIR:?}"
worker="$DYN_BUILD_DIR/rt_worker"
[ -x "$worker" ] || { echo "rt_worker not built at $worker"; exit 1; }
tmp=$(mktemp -d /tmp/dyn-rt-e2e-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
nport=$(free_port); eport=$(free_port); pport=$(free_port)
printf 'host: 127.0.0.1\nport: %s\njetstream { store_dir: "%s/js" }\n' "$nport" "$tmp" > "$tmp/nats.conf"
nats-server -c "$tmp/nats.conf" > "$tmp/nats.log" 2>&1 & pids+=($!)
etcd --name e2e --data-dir "$tmp/etcd" --listen-client-urls "http://127.0.0.1:$eport" \
     --advertise-client-urls "http://127.0.0.1:$eport" --listen-peer-urls "http://127.0.0.1:$pport" \
     --initial-advertise-peer-urls "http://127.0.0.1:$pport" --initial-cluster "e2e=http://127.0.0.1:$pport" \
     --log-level error --logger zap > "$tmp/etcd.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  curl -sf -m 1 -X POST -d '{}' "http://127.0.0.1:$eport/v3/maintenance/status" >/dev/null 2>&1 && break
  sleep 0.1
done

NATS_SERVER="nats://127.0.0.1:$nport" ETCD_ENDPOINTS="127.0.0.1:$eport" DYN_NAMESPACE=e2e \
  DYN_CALLHOME_HOST=127.0.0.1 "$worker" backend generate > "$tmp/worker.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do grep -q READY "$tmp/worker.log" && break; sleep 0.1; done
grep -q READY "$tmp/worker.log" || { cat "$tmp/worker.log"; echo "worker did not start"; exit 1; }

timeout 60 node "$DYN_SOURCE_DIR/tests/e2e/rt_natsjs_client.js" "nats://127.0.0.1:$nport" \
  "http://127.0.0.1:$eport" e2e backend generate
