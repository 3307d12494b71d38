#!/bin/bash
# Wall time and CPU (user+sys of the node process, from /proc) from spawn to `chatsim serve`'s
# "listening" line, on a fresh log store, N times (default 5). The CPU figure is the one to compare on a
# shared box: the wall time follows the load. Usage: bench/serve-start.sh [N]
set -u
cd "$(dirname "$0")/.."
for _ in $(seq "${1:-5}"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  CHAT_JWT_SECRET=serve-start-bench-secret-0123456789abcdef node bin/chatsim.mjs serve --port 0 --data-dir "$dir" >"$dir/out" 2>&1 &
  pid=$!
  until grep -q listening "$dir/out" 2>/dev/null; do
    sleep 0.02
    if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/out"; break; fi
  done
  end=$(date +%s%N)
  cpu=$(awk '{print ($14 + $15) * 10}' "/proc/$pid/stat")
  echo "wall $(((end - start) / 1000000)) ms, cpu $cpu ms"
  kill "$pid"
  wait "$pid" 2>/dev/null
  rm -rf "$dir"
done
