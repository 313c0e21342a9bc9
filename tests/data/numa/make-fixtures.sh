#!/usr/bin/env bash
# Regenerates the sysfs fixture trees used by tests/unit/test_numa_topology.c and
# tests/e2e/numa_topo.sh. Each <fixture>/sys is what DYN_SYSFS_ROOT points at; <fixture>/nvidia-smi
# holds the answers of the fake nvidia-smi in fake-smi/. Run from anywhere; it rewrites in place.
set -euo pipefail
cd "$(dirname "$0")"

node() { # fixture id cpulist memory_kb
  local d=$1/sys/devices/system/node/node$2
  mkdir -p "$d"
  printf '%s\n' "$3" >"$d/cpulist"
  printf 'Node %s MemTotal:       %s kB\nNode %s MemFree:        %s kB\n' "$2" "$4" "$2" "$(($4 / 2))" >"$d/meminfo"
}
online() { mkdir -p "$1/sys/devices/system/cpu"; printf '%s\n' "$2" >"$1/sys/devices/system/cpu/online"; }
pci() { # fixture address vendor class numa_node ("" = no numa_node file)
  local d=$1/sys/bus/pci/devices/$2
  mkdir -p "$d"
  printf '%s\n' "$3" >"$d/vendor"
  printf '%s\n' "$4" >"$d/class"
  if [ -n "$5" ]; then printf '%s\n' "$5" >"$d/numa_node"; fi
}
smi_numa() { mkdir -p "$1/nvidia-smi/numa"; printf '%s\n' "$3" >"$1/nvidia-smi/numa/$2"; }

rm -rf one-node two-node-8gpu restricted-cpuset numa-unknown domain8 malformed no-numa

# A workstation: one node, an Intel iGPU (display class, not NVIDIA) and a stray NVIDIA
# audio function: no GPU.
node one-node 0 0-7 32768000
online one-node 0-7
pci one-node 0000:00:00.0 0x8086 0x060000 -1
pci one-node 0000:00:02.0 0x8086 0x030000 -1
pci one-node 0000:01:00.1 0x10de 0x040300 -1

# A DGX-like host: two nodes with interleaved CPU numbering, GPUs 0-3 on node 0 and 4-7 on
# node 1 (mixed VGA / 3D controller classes), plus NVIDIA functions that are not GPUs.
node two-node-8gpu 0 0-15,32-47 263856128
node two-node-8gpu 1 16-31,48-63 264241152
online two-node-8gpu 0-63
pci two-node-8gpu 0000:00:00.0 0x8086 0x060000 -1
pci two-node-8gpu 0000:07:00.0 0x10de 0x030200 0
pci two-node-8gpu 0000:07:00.1 0x10de 0x040300 0
pci two-node-8gpu 0000:0c:00.0 0x15b3 0x020700 0
pci two-node-8gpu 0000:0f:00.0 0x10de 0x030000 0
pci two-node-8gpu 0000:47:00.0 0x10de 0x030200 0
pci two-node-8gpu 0000:4e:00.0 0x10de 0x030200 0
pci two-node-8gpu 0000:87:00.0 0x10de 0x030200 1
pci two-node-8gpu 0000:90:00.0 0x10de 0x030000 1
pci two-node-8gpu 0000:b7:00.0 0x10de 0x030200 1
pci two-node-8gpu 0000:bd:00.0 0x10de 0x030200 1
pci two-node-8gpu 0000:c3:00.0 0x10de 0x068000 1
mkdir -p two-node-8gpu/nvidia-smi
for i in 0 1 2 3 4 5 6 7; do
  addr=(07 0F 47 4E 87 90 B7 BD)
  printf '00000000:%s:00.0, GPU-%s1111111-2222-3333-4444-55555555555%s\n' "${addr[$i]}" "$i" "$i"
done >two-node-8gpu/nvidia-smi/query.csv

# A container whose cgroup cpuset allows only CPUs 2-4 and 8.
node restricted-cpuset 0 0-7 16777216
node restricted-cpuset 1 8-15 16777216
online restricted-cpuset 0-15
mkdir -p restricted-cpuset/sys/fs/cgroup
printf '2-4,8\n' >restricted-cpuset/sys/fs/cgroup/cpuset.cpus.effective
pci restricted-cpuset 0000:01:00.0 0x10de 0x030200 0
pci restricted-cpuset 0000:02:00.0 0x10de 0x030200 0
pci restricted-cpuset 0000:81:00.0 0x10de 0x030200 1

# Firmware that does not report GPU locality: numa_node -1 (or absent); nvidia-smi knows two.
node numa-unknown 0 0-3 8388608
node numa-unknown 1 4-7 8388608
online numa-unknown 0-7
pci numa-unknown 0000:3b:00.0 0x10de 0x030200 -1
pci numa-unknown 0000:86:00.0 0x10de 0x030200 -1
pci numa-unknown 0000:af:00.0 0x10de 0x030200 ""
smi_numa numa-unknown 0000:3b:00.0 'NUMA ID of nearby CPU: 0'
smi_numa numa-unknown 0000:86:00.0 'NUMA ID of nearby CPU: 1'

# 8-hex-digit PCI domains (some hypervisors, VMD).
node domain8 0 0-3 8388608
node domain8 1 4-7 8388608
online domain8 0-7
pci domain8 00000000:00:00.0 0x8086 0x060000 -1
pci domain8 00000000:3b:00.0 0x10de 0x030200 0
pci domain8 00010000:01:00.0 0x10de 0x030000 1
mkdir -p domain8/nvidia-smi
printf '00000000:3B:00.0, GPU-aaaaaaaa-0000-0000-0000-000000000000\n00010000:01:00.0, GPU-bbbbbbbb-0000-0000-0000-000000000000\n' >domain8/nvidia-smi/query.csv

# A broken tree: node1's cpulist has its range backwards.
node malformed 0 0-3 8388608
node malformed 1 7-4 8388608

# A kernel without NUMA: no node directory at all.
online no-numa 0-3
pci no-numa 0000:01:00.0 0x10de 0x030000 -1
