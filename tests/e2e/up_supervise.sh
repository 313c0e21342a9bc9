#!/usr/bin/env bash
# dyn up / ps / logs / down with real nats-server and etcd and simple HTTP components (python's
# http.server, through the local-command annotation): nothing starts for an invalid graph,
# readiness, restart of a killed replica, locks, port conflicts, two graphs side by side, PVC
# data surviving down/up, a missing create:false PVC, Ctrl-C leaving no process behind, and the
# unprivileged fallback for volumes (DYN_LOCAL_MOUNTS).
set -uo pipefail
dyn=${DYN_BIN:?}
tmp=$(mktemp -d); cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() {
  for g in alpha beta gamma; do "$dyn" down "$g" >/dev/null 2>&1; done
  pkill -KILL -f "$tmp/" 2>/dev/null
  cd /; rm -rf "$tmp"
}
trap cleanup EXIT

# graph NAME [extra service yaml]: a frontend and two workers that serve /health, and write
# their name into the PVC mounted at /tmp/dyn-e2e-$NAME
graph() {
  cat <<YAML
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: $1
spec:
  pvcs:
    - {name: data, create: true, size: 1Gi, storageClass: local, volumeAccessMode: ReadWriteOnce}
  services:
    Frontend:
      componentType: frontend
      annotations:
        dynamo-c.dev/local-command: "printf '\\\\033[31mred\\\\n'; echo ok > health && exec python3 -m http.server \$DYN_HTTP_PORT --bind 127.0.0.1"
    worker:
      componentType: worker
      replicas: 2
      volumeMounts: [{name: data, mountPoint: /tmp/dyn-e2e-$1}]
      annotations:
        dynamo-c.dev/local-command: "echo ok > health && echo \$POD_NAME >> /tmp/dyn-e2e-$1/seen && exec python3 -m http.server \$DYN_SYSTEM_PORT --bind 127.0.0.1"
YAML
}
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
# processes of a local graph, found by the marker dyn up puts in every one's environment
running() { grep -zlxsF "DYN_UP_STATE_DIR=$tmp/.dyn/$1" /proc/[0-9]*/environ | wc -l; }

# an invalid graph starts nothing
graph alpha | sed 's/replicas: 2/replicas: -2/' >bad.yaml
"$dyn" up -d bad.yaml >out 2>err; rc=$?
[ $rc -eq 1 ] || fail "invalid graph: exit $rc, want 1"
grep -q "replicas: must be greater than or equal to 0" err || fail "invalid graph: diagnostic missing"
grep -q "nothing started" err || fail "invalid graph: no 'nothing started'"
[ ! -e .dyn/alpha ] || fail "invalid graph created state"

# a create:false PVC that does not exist here is an error before anything starts
graph gamma | sed 's/- {name: data, create: true.*/- {name: data, create: false}/' >gamma.yaml
"$dyn" up -d gamma.yaml --http-port 0 >out 2>err; rc=$?
[ $rc -eq 1 ] || fail "missing PVC: exit $rc, want 1"
grep -q 'PVC "data" has create: false but does not exist here' err || fail "missing PVC message"
[ "$(running gamma)" -eq 0 ] || fail "missing PVC: something started"

# up in the background: every process ready, ps --json has what tools need
graph alpha >alpha.yaml
"$dyn" up -d alpha.yaml --http-port 0 >out 2>err || { fail "up alpha"; cat out err; }
"$dyn" ps alpha --json >ps.json
n=$(json_field 'print(sum(1 for p in d if p["state"] == "ready" and p["pid"] > 0 and p["port"] > 0 and "service" in p))' <ps.json)
[ "$n" -eq 5 ] || fail "ps: $n of 5 processes ready with pid and port"
[ "$(running alpha)" -ge 5 ] || fail "running: found $(running alpha) marked processes of alpha, want at least 5"
url=$(grep -o 'http://127.0.0.1:[0-9]*' out | head -1)
curl -sf "$url/health" >/dev/null || fail "frontend URL $url not serving"

# the same graph twice: a clear conflict
"$dyn" up -d alpha.yaml --http-port 0 >out 2>err; rc=$?
[ $rc -eq 2 ] || fail "second up: exit $rc, want 2"
grep -q 'graph "alpha" is already up' err || fail "second up: message"

# a fixed port that is taken: a clear error, nothing started
port=$(json_field 'print([p["port"] for p in d if p["service"] == "Frontend"][0])' <ps.json)
graph beta >beta.yaml
"$dyn" up -d beta.yaml --http-port "$port" >out 2>err; rc=$?
[ $rc -eq 2 ] || fail "port conflict: exit $rc, want 2"
grep -q "port $port is already in use" err || fail "port conflict message"
[ "$(running beta)" -eq 0 ] || fail "port conflict: something started"

# a second graph side by side
"$dyn" up -d beta.yaml --http-port 0 >out 2>err || { fail "up beta beside alpha"; cat err; }
[ "$("$dyn" ps --json | json_field 'print(len(set(p["port"] for p in d if p["state"] == "ready")))')" -eq 10 ] \
  || fail "two graphs: ports are not all distinct"

# kill a replica: it is restarted and ready again
pid=$(json_field 'print([p["pid"] for p in d if p["name"] == "worker-0"][0])' <ps.json)
kill -9 "$pid"
ok=0
for _ in $(seq 1 50); do
  "$dyn" ps alpha --json >ps2.json
  if json_field 'w=[p for p in d if p["name"]=="worker-0"][0]; sys.exit(0 if w["state"]=="ready" and w["restarts"]==1 and w["pid"]!='"$pid"' else 1)' <ps2.json; then ok=1; break; fi
  sleep 0.2
done
[ $ok -eq 1 ] || { fail "killed worker-0 not restarted and ready"; cat ps2.json; }
"$dyn" logs worker-0 --graph alpha | grep -q "killed by signal 9" && fail "logs mixed supervisor lines into worker-0"
grep -q "worker-0 killed by signal 9; restarting in 1 s" .dyn/alpha/logs/up.log || fail "restart not reported"

# down: nothing left; PVC data kept; up again finds it
"$dyn" down alpha >/dev/null || fail "down alpha"
[ "$(running alpha)" -eq 0 ] || fail "down left processes behind"
"$dyn" ps beta --json | json_field 'sys.exit(0 if all(p["state"]=="ready" for p in d) else 1)' || fail "down alpha touched beta"
grep -q "worker-0" .dyn/alpha/volumes/data/seen || fail "PVC directory did not get the worker's writes"
lines=$(wc -l <.dyn/alpha/volumes/data/seen)
"$dyn" up -d alpha.yaml --http-port 0 >/dev/null 2>&1 || fail "up alpha again"
[ "$(wc -l <.dyn/alpha/volumes/data/seen)" -gt "$lines" ] || fail "PVC data did not survive down/up"
"$dyn" down alpha >/dev/null
"$dyn" down beta --delete-volumes >/dev/null
[ ! -e .dyn/beta/volumes ] || fail "--delete-volumes kept the volumes"

# a state directory whose name holds shell syntax is only a name (it once reached a shell)
odd="$tmp/it's; touch $tmp/PWNED; '"
"$dyn" up -d alpha.yaml --http-port 0 --state-dir "$odd" >/dev/null 2>&1 || fail "up with an odd state dir"
"$dyn" down --state-dir "$odd" --delete-volumes >/dev/null 2>&1 || fail "down with an odd state dir"
[ ! -e "$tmp/PWNED" ] || fail "a state directory name was run as a command"
[ ! -e "$odd/volumes" ] || fail "odd state dir: volumes not deleted"

# a supervisor killed outright: its components' processes (even setsid'd ones) are found by
# their marker and killed by dyn down; a stale pid in status.json is never signalled
graph gamma | sed 's#exec python3 -m http.server \$DYN_SYSTEM_PORT#setsid sleep 3031 \& exec python3 -m http.server $DYN_SYSTEM_PORT#' >orphans.yaml
"$dyn" up -d orphans.yaml --http-port 0 >/dev/null 2>&1 || fail "up orphans"
sup=$(json_field 'print(d["supervisor_pid"])' <.dyn/gamma/status.json)
kill -9 "$sup"; sleep 0.5
[ "$(pgrep -f 'sleep 3031' | wc -l)" -eq 2 ] || fail "test setup: expected 2 orphaned sleeps"
sleep 3099 & decoy=$!
python3 -c "import json,sys; p='.dyn/gamma/status.json'; d=json.load(open(p)); d['supervisor_pid']=$decoy; json.dump(d,open(p,'w'))"
"$dyn" down gamma >down.out 2>&1
kill -0 $decoy 2>/dev/null || fail "dyn down signalled the stale pid in status.json"
kill $decoy 2>/dev/null
grep -q "killed 2 processes its supervisor left behind" down.out || { fail "dyn down did not clean up orphans"; cat down.out; }
[ "$(pgrep -f 'sleep 3031' | wc -l)" -eq 0 ] || fail "orphans still running"

# foreground: Ctrl-C (SIGINT) stops everything in reverse order
"$dyn" up alpha.yaml --http-port 0 >fg.out 2>&1 &
sup=$!
for _ in $(seq 1 100); do grep -q "graph alpha is ready" fg.out && break; sleep 0.2; done
grep -q "graph alpha is ready" fg.out || fail "foreground up never ready"
kill -INT $sup
wait $sup; rc=$?
[ $rc -eq 0 ] || { fail "foreground up exit $rc after SIGINT"; tail -20 fg.out; }
[ "$(running alpha)" -eq 0 ] || fail "SIGINT left processes behind"
grep -q 'frontend-0    | \\x1b\[31mred' fg.out || fail "component escape sequences not shown escaped"
grep -q "$(printf '\033')" fg.out && fail "a raw escape sequence reached the terminal output"
order=$(grep -o "stopping\|stopped;" fg.out | tr '\n' ' ')
[ "$order" = "stopping stopped; " ] || fail "stop sequence: $order"

# without the privilege to mount (an unprivileged user), volumes are handed over in DYN_LOCAL_MOUNTS
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  up_dir=$(mktemp -d); chmod 755 "$up_dir"; chown 65534:65534 "$up_dir"
  graph delta | sed 's#echo \$POD_NAME >> /tmp/dyn-e2e-delta/seen#echo mounts=\$DYN_LOCAL_MOUNTS; echo \$POD_NAME >> \${DYN_LOCAL_MOUNTS\#*=}/seen#' >"$up_dir/delta.yaml"
  chmod 644 "$up_dir/delta.yaml"
  (cd "$up_dir" && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$up_dir" PATH="$PATH" \
     timeout 30 "$dyn" up delta.yaml --http-port 0 >up.out 2>&1) &
  for _ in $(seq 1 100); do grep -qs "graph delta is ready" "$up_dir/up.out" && break; sleep 0.2; done
  grep -q "graph delta is ready" "$up_dir/up.out" || fail "unprivileged up never ready"
  grep -q "mounts=/tmp/dyn-e2e-delta=$up_dir/.dyn/delta/volumes/data" "$up_dir/up.out" || fail "unprivileged: no DYN_LOCAL_MOUNTS"
  grep -q "worker-0" "$up_dir/.dyn/delta/volumes/data/seen" || fail "unprivileged: worker did not write to its volume"
  pkill -INT -f "dyn up delta.yaml"; wait
  rm -rf "$up_dir"
fi

[ $failures -eq 0 ] && echo "up_supervise: all checks passed" || { echo "up_supervise: $failures failure(s)"; exit 1; }
