#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over its seed corpus and prints one summary line:
#   fuzz <target>: <execs> execs in <s> s (<rate>/s), cov <edges>, ft <features>, corpus <n>
# Exit status is libFuzzer's: non-zero when it found a crash or an invariant violation.
set -uo pipefail
bin=$1
seconds=$2
name=$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)
work="$(dirname "$bin")/corpus/$name"
log="$(dirname "$bin")/$name.log"
mkdir -p "$work"
# fuzz/<target>.seeds lists the seed corpus folders, one per line, relative to the root.
seeds=()
while read -r dir; do [[ -n "$dir" ]] && seeds+=("$root/$dir"); done < "$root/fuzz/$name.seeds"
dict=()
[[ -f "$root/fuzz/$name.dict" ]] && dict=(-dict="$root/fuzz/$name.dict")

"$bin" -max_total_time="$seconds" -print_final_stats=1 -max_len=16384 -timeout=10 \
    "${dict[@]}" -artifact_prefix="$(dirname "$bin")/$name-" "$work" "${seeds[@]}" >"$log" 2>&1
status=$?

execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
corpus=$(find "$work" -type f | wc -l)
rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
echo "fuzz $name: ${execs:-?} execs (${rate:-?}/s, limit $seconds s), cov ${cov:-?}, ft ${ft:-?}, corpus $corpus"
if [[ $status -ne 0 ]]; then
    echo "fuzz $name: FAILED (exit $status); log follows"
    tail -40 "$log"
fi
exit $status
