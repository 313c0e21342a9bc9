#!/usr/bin/env bash
# dyn topo on this machine and on the fixture sysfs trees of tests/data/numa: exact JSON
# (golden files), the text form, and errors for bad input.
set -uo pipefail
: "${DYN_BIN:?DYN_BIN must name the dyn binary}"
src=${DYN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=$src/tests/data/numa
ok_smi=$data/fake-smi/ok/nvidia-smi
fail_smi=$data/fake-smi/fail/nvidia-smi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# Expands a cpulist ("0-2,5") into "0 1 2 5".
expand() {
  local out=() part a b
  IFS=, read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    [ -z "$part" ] && continue
    if [[ $part == *-* ]]; then a=${part%-*}; b=${part#*-}; else a=$part; b=$part; fi
    for ((c = a; c <= b; c++)); do out+=("$c"); done
  done
  echo "${out[*]}"
}

unset CUDA_VISIBLE_DEVICES DYN_MEMORY_DISABLE_NUMA DYN_SYSFS_ROOT

# --- this machine: compare with what the kernel says directly -------------------------------
"$DYN_BIN" topo --json >"$tmp/live.json" || fail "live: dyn topo --json exit $?"
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$(jq '.nodes | length' "$tmp/live.json")" = "$nodes" ] && pass "live: $nodes node(s)" || fail "live: node count"
for d in /sys/devices/system/node/node[0-9]*; do
  id=${d##*node}
  want=$(expand "$(cat "$d/cpulist")")
  got=$(jq -r --argjson id "$id" '.nodes[] | select(.id == $id) | .cpus | map(tostring) | join(" ")' "$tmp/live.json")
  [ "$got" = "$want" ] && pass "live: node $id cpus $want" || fail "live: node $id cpus '$got' != '$want'"
  kb=$(awk '/MemTotal/ {print $4}' "$d/meminfo")
  [ "$(jq --argjson id "$id" '.nodes[] | select(.id == $id) | .memory_bytes' "$tmp/live.json")" = "$((kb * 1024))" ] \
    && pass "live: node $id memory" || fail "live: node $id memory"
done
want=$(expand "$(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)")
got=$(jq -r '.usable_cpus | map(tostring) | join(" ")' "$tmp/live.json")
[ "$got" = "$want" ] && pass "live: usable cpus $want" || fail "live: usable '$got' != '$want'"
ngpu=0
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = 0x10de ] && [[ $(cat "$d/class") == 0x03* ]] && ngpu=$((ngpu + 1))
done
[ "$(jq '.gpus | length' "$tmp/live.json")" = "$ngpu" ] && pass "live: $ngpu GPU(s)" || fail "live: GPU count"
"$DYN_BIN" topo >"$tmp/live.txt" || fail "live: dyn topo exit $?"
if [ "$ngpu" = 0 ]; then
  grep -q '^GPUs: none (no NVIDIA display-class PCI device under /sys/bus/pci/devices)$' "$tmp/live.txt" \
    && pass "live: says there is no GPU" || fail "live: no-GPU line missing"
fi
grep -q "^nodes: $nodes\$" "$tmp/live.txt" && grep -q '^  node 0  cpus ' "$tmp/live.txt" \
  && pass "live: text shows the nodes" || fail "live: text nodes"

# --- fixtures: exact JSON ---------------------------------------------------------------------
golden() { # name fixture expected-file [env...]
  local name=$1 fx=$2 want=$3; shift 3
  if env "$@" DYN_SYSFS_ROOT="$data/$fx/sys" "$DYN_BIN" topo --json >"$tmp/$name.json"; then
    if diff <(jq -S 'del(.sysfs_root, .disabled_reason)' "$tmp/$name.json") <(jq -S 'del(.disabled_reason)' "$want") >"$tmp/$name.diff"; then
      pass "$name: JSON matches $(basename "$want")"
    else
      fail "$name: JSON differs"; cat "$tmp/$name.diff"
    fi
  else
    fail "$name: exit $?"
  fi
}
for fx in one-node two-node-8gpu restricted-cpuset numa-unknown domain8 no-numa; do
  golden "$fx" "$fx" "$data/$fx/expected.json" DYN_NVIDIA_SMI="$ok_smi"
done
golden cvd-uuid two-node-8gpu "$data/two-node-8gpu/expected-cvd.json" \
  DYN_NVIDIA_SMI="$ok_smi" CUDA_VISIBLE_DEVICES=GPU-41111111,5

# The keys the issue promises, with their types.
jq -e '(.nodes[0] | has("id") and has("cpus") and has("memory_bytes"))
       and (.gpus[0] | has("pci") and has("numa_node") and has("source") and has("cpus"))
       and (.usable_cpus | type == "array") and (.numa_enabled | type == "boolean")' \
  "$tmp/two-node-8gpu.json" >/dev/null && pass "schema keys" || fail "schema keys"

# --- fixtures: text ---------------------------------------------------------------------------
DYN_SYSFS_ROOT=$data/two-node-8gpu/sys "$DYN_BIN" topo >"$tmp/two.txt"
for line in "NUMA placement: enabled" "nodes: 2" "  node 0  cpus 0-15,32-47 (32)  memory 251.6 GiB" \
  "  node 1  cpus 16-31,48-63 (32)  memory 252.0 GiB" "usable cpus: 0-63 (64)" "GPUs: 8" \
  "  gpu 0  0000:07:00.0  3D controller  cuda 0   node 0 (sysfs)  cpus 0-7 (8)" \
  "  gpu 5  0000:90:00.0  VGA            cuda 5   node 1 (sysfs)  cpus 24-31 (8)"; do
  grep -qxF "$line" "$tmp/two.txt" && pass "text: '$line'" || fail "text: missing '$line'"
done
DYN_SYSFS_ROOT=$data/numa-unknown/sys DYN_NVIDIA_SMI=$fail_smi "$DYN_BIN" topo >"$tmp/guess.txt"
[ "$(grep -c 'node [01] (guess: even/odd, not measured)' "$tmp/guess.txt")" = 3 ] \
  && pass "failing nvidia-smi: three GPUs marked as guesses" || fail "guess marking"
DYN_SYSFS_ROOT=$data/numa-unknown/sys DYN_NVIDIA_SMI=$fail_smi "$DYN_BIN" topo --json >"$tmp/guess.json"
[ "$(jq -r '[.gpus[].source] | join(",")' "$tmp/guess.json")" = guess,guess,guess ] \
  && pass "failing nvidia-smi: JSON source guess" || fail "guess JSON"
DYN_SYSFS_ROOT=$data/numa-unknown/sys DYN_NVIDIA_SMI=$ok_smi "$DYN_BIN" topo >"$tmp/smi.txt"
grep -qxF "  gpu 1  0000:86:00.0  3D controller  cuda 1   node 1 (nvidia-smi)  cpus 4-7 (4)" "$tmp/smi.txt" \
  && pass "nvidia-smi answer shown" || fail "nvidia-smi text"
DYN_SYSFS_ROOT=$data/one-node/sys "$DYN_BIN" topo >"$tmp/one.txt"
grep -q '^GPUs: none' "$tmp/one.txt" && grep -qxF "  node 0  cpus 0-7 (8)  memory 31.2 GiB" "$tmp/one.txt" \
  && pass "no GPUs: says so and shows the node" || fail "one-node text"
DYN_MEMORY_DISABLE_NUMA=on DYN_SYSFS_ROOT=$data/one-node/sys "$DYN_BIN" topo --json >"$tmp/off.json"
[ "$(jq '.numa_enabled' "$tmp/off.json")" = false ] && [ "$(jq -r '.disabled_reason' "$tmp/off.json")" = "DYN_MEMORY_DISABLE_NUMA is set" ] \
  && pass "DYN_MEMORY_DISABLE_NUMA=on" || fail "disable env"
CUDA_VISIBLE_DEVICES=4,5 DYN_SYSFS_ROOT=$data/two-node-8gpu/sys "$DYN_BIN" topo --json >"$tmp/cvd.json"
[ "$(jq -c '[.gpus[] | select(.cuda_ordinal != null) | [.cuda_ordinal, .pci, .numa_node]]' "$tmp/cvd.json")" \
  = '[[0,"0000:87:00.0",1],[1,"0000:90:00.0",1]]' ] && pass "CUDA_VISIBLE_DEVICES=4,5" || fail "CVD 4,5"

# --- errors -----------------------------------------------------------------------------------
DYN_SYSFS_ROOT=$data/malformed/sys "$DYN_BIN" topo >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'node1/cpulist: malformed cpulist at column 3: range end is below its start' "$tmp/err" \
  && [ ! -s "$tmp/out" ] && pass "malformed cpulist: exit 2 with the file and column" || fail "malformed: rc=$rc $(cat "$tmp/err")"
DYN_SYSFS_ROOT=/nonexistent "$DYN_BIN" topo 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'sysfs root /nonexistent' "$tmp/err" && pass "missing root: exit 2" || fail "missing root rc=$rc"
"$DYN_BIN" topo --bogus 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown option '--bogus'" "$tmp/err" && pass "bad option: exit 2" || fail "bad option rc=$rc"
"$DYN_BIN" topo --help | grep -q '^usage: dyn topo' && pass "--help" || fail "--help"

if [ $failures -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
