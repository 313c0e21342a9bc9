#!/usr/bin/env bash
# examples/hello.yaml under dyn up, end to end through the frontend: non-streaming and streaming
# chat, /v1/models, a 10 MB base64 embedding; a killed worker (requests keep succeeding, it is
# restarted); NATS stopped (the frontend reports unavailable, then recovers); Ctrl-C leaves no
# process and no lease (checked on an external etcd the test owns).
set -uo pipefail
src=${DYN_SOURCE_DIR:?}; dyn=${DYN_BIN:?}
tmp=$(mktemp -d); cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
etcd_pid=""
cleanup() {
  [ -n "${up:-}" ] && kill -INT "$up" 2>/dev/null && wait "$up" 2>/dev/null
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null
  pkill -KILL -f "$tmp/" 2>/dev/null
  cd /; rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# an external etcd, so the leases can be inspected after the graph stops
ec=$(free_port); ep=$(free_port)
etcd --name t --data-dir "$tmp/etcd" --listen-client-urls "http://127.0.0.1:$ec" --advertise-client-urls "http://127.0.0.1:$ec" \
  --listen-peer-urls "http://127.0.0.1:$ep" --initial-advertise-peer-urls "http://127.0.0.1:$ep" \
  --initial-cluster "t=http://127.0.0.1:$ep" --log-level error >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ec/health" >/dev/null && break; sleep 0.1; done
leases() { curl -s -X POST "http://127.0.0.1:$ec/v3/lease/leases" -d '{}' | json 'print(len(d.get("leases", [])))'; }

"$dyn" up "$src/examples/hello.yaml" --http-port 0 --etcd "http://127.0.0.1:$ec" >up.out 2>&1 &
up=$!
for _ in $(seq 1 150); do grep -qs "graph hello is ready" up.out && break; sleep 0.2; done
grep -q "graph hello is ready" up.out || { fail "hello never ready"; tail -30 up.out; exit 1; }
url=$(grep -o 'graph hello is ready: http://127.0.0.1:[0-9]*' up.out | grep -o 'http://.*')
chat() { curl -sS -m 20 "$url/v1/chat/completions" -H 'Content-Type: application/json' -d "$1"; }

# non-streaming chat: one OpenAI chat.completion
chat '{"model":"hello-model","messages":[{"role":"user","content":"hi"}],"max_tokens":8}' >chat.json
json 'c=d["choices"][0]; assert d["object"]=="chat.completion" and c["message"]["role"]=="assistant" and len(c["message"]["content"])>0' <chat.json \
  || { fail "chat completion"; cat chat.json; }

# streaming chat: server-sent events, chunks, then [DONE]
chat '{"model":"hello-model","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":5}' >stream.txt
[ "$(grep -c '^data: {' stream.txt)" -ge 5 ] || { fail "streaming: too few chunks"; cat stream.txt; }
grep -q '"chat.completion.chunk"' stream.txt || fail "streaming: no chat.completion.chunk"
[ "$(grep '^data:' stream.txt | tail -1)" = "data: [DONE]" ] || fail "streaming: no [DONE] at the end"

# /v1/models lists what the workers registered
curl -sS "$url/v1/models" | json 'assert any(m["id"]=="hello-model" for m in d["data"])' || fail "/v1/models"

# a 10 MB embedding, base64
curl -sS -m 60 "$url/v1/embeddings" -H 'Content-Type: application/json' \
  -d '{"model":"hello-model","input":"big","dimensions":2621440,"encoding_format":"base64"}' >emb.json
python3 - emb.json <<'PY' || fail "10 MB base64 embedding"
import base64, json, sys
d = json.load(open(sys.argv[1]))
raw = base64.b64decode(d["data"][0]["embedding"])
assert len(raw) == 2621440 * 4, len(raw)
PY

# kill one worker: requests keep succeeding, the worker comes back
"$dyn" ps hello --json >ps.json
pid=$(json 'print([p["pid"] for p in d if p["name"]=="mocker-0"][0])' <ps.json)
kill -9 "$pid"
ok=0
for i in $(seq 1 20); do
  chat '{"model":"hello-model","messages":[{"role":"user","content":"again"}],"max_tokens":2}' | grep -q '"chat.completion"' && ok=$((ok + 1))
done
[ $ok -eq 20 ] || fail "after killing a worker only $ok of 20 requests succeeded"
back=0
for _ in $(seq 1 60); do
  "$dyn" ps hello --json | json 'w=[p for p in d if p["name"]=="mocker-0"][0]; sys.exit(0 if w["state"]=="ready" and w["restarts"]>=1 else 1)' && { back=1; break; }
  sleep 0.25
done
[ $back -eq 1 ] || fail "killed worker not restarted and ready"

# stop NATS: the frontend says unavailable, then recovers when the supervisor restarts it
nats=$("$dyn" ps hello --json | json 'print([p["pid"] for p in d if p["name"]=="nats"][0])')
kill -STOP "$nats"   # a NATS that stops answering
sleep 0.5
code=$(curl -s -o /dev/null -m 15 -w '%{http_code}' "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"hello-model","messages":[{"role":"user","content":"x"}],"max_tokens":2}')
[ "$code" = 503 ] || fail "NATS stopped: chat answered $code, want 503"
kill -9 "$nats"; kill -CONT "$nats" 2>/dev/null
recovered=0
for _ in $(seq 1 80); do
  chat '{"model":"hello-model","messages":[{"role":"user","content":"back"}],"max_tokens":2}' 2>/dev/null | grep -q '"chat.completion"' && { recovered=1; break; }
  sleep 0.25
done
[ $recovered -eq 1 ] || fail "no recovery after NATS came back"

# Ctrl-C: everything stops, no process, no lease left in etcd
marked() { grep -zlxsF "DYN_UP_STATE_DIR=$tmp/.dyn/hello" /proc/[0-9]*/environ | wc -l; }
[ "$(leases)" -ge 3 ] || fail "expected the components' leases while running"
[ "$(marked)" -ge 4 ] || fail "expected nats, the frontend and two mockers running, found $(marked)"
kill -INT $up; wait $up; rc=$?; up=""
[ $rc -eq 0 ] || fail "dyn up exit $rc after Ctrl-C"
[ "$(marked)" -eq 0 ] || fail "$(marked) processes left after Ctrl-C"
[ "$(leases)" -eq 0 ] || fail "$(leases) lease(s) left in etcd after Ctrl-C"

[ $failures -eq 0 ] && echo "up_hello: all checks passed" || { echo "up_hello: $failures failure(s)"; exit 1; }
