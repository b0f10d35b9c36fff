#!/bin/bash
# Runs lapor-bench and reports the CPU the server, the generator, other
# processes and steal used during the run (cores, from /proc), as recorded in
# docs/benchmarks.md.
#
#   crates/bench/measured.sh SERVER_PID NAME -- <lapor-bench arguments>
#
# Writes NAME.txt (the summary) and NAME.json. LAPOR_BENCH picks the
# generator binary (default target/release/lapor-bench).
set -euo pipefail
SP=$1; NAME=$2; shift 3
BENCH=${LAPOR_BENCH:-target/release/lapor-bench}
echo "== $NAME: uptime before: $(uptime)"
tck=$(getconf CLK_TCK)
cpu() { head -1 /proc/stat | awk '{print $2+$3+$4+$7+$8, $9}'; }
read -r all0 st0 < <(cpu)
s0=$(awk '{print $14+$15}' /proc/$SP/stat)
t0=$(date +%s.%N)
/usr/bin/time -f "gen_cpu %U %S" -o "$NAME.time" "$BENCH" --json "$NAME.json" "$@" > "$NAME.txt"
t1=$(date +%s.%N)
s1=$(awk '{print $14+$15}' /proc/$SP/stat)
read -r all1 st1 < <(cpu)
gen=$(awk '/gen_cpu/ {print $2+$3}' "$NAME.time")
awk -v el="$(echo "$t1 - $t0" | bc)" -v tck="$tck" -v s="$((s1 - s0))" -v all="$((all1 - all0))" \
    -v st="$((st1 - st0))" -v gen="$gen" 'BEGIN {
  srv = s / tck / el; tot = all / tck / el; g = gen / el; o = tot - srv - g; if (o < 0) o = 0
  printf "elapsed %.1fs server %.2f cores, generator %.2f, other %.2f, steal %.2f\n", el, srv, g, o, st / tck / el }'
grep -E "Throughput|Errors:" "$NAME.txt" || true
