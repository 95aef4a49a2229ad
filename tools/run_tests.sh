#!/usr/bin/env bash
# Runs every test suite and ends with one summary line, "N passed, M failed".
#   tools/run_tests.sh BUILD_DIR FUZZ_SECONDS FUZZ_TARGET...
set -uo pipefail
out=$1
fuzz_seconds=$2
shift 2
cd "$(dirname "$0")/.."

passed=0
failed=0

echo "== unit tests (GoogleTest)"
"$out/unit_tests" --gtest_color=no 2>&1 | tee "$out/unit_tests.log" | grep -E '^\[  (FAILED|PASSED) |^\[==========\]|Failure' || true
unit_pass=$(grep -oE '^\[  PASSED  \] [0-9]+' "$out/unit_tests.log" | grep -oE '[0-9]+$')
unit_fail=$(grep -oE '^\[  FAILED  \] [0-9]+ test' "$out/unit_tests.log" | grep -oE '[0-9]+' | head -1)
if [[ -z "$unit_pass" && -z "$unit_fail" ]]; then
    echo "unit tests did not run to completion"; tail -20 "$out/unit_tests.log"; unit_fail=1
fi
passed=$((passed + ${unit_pass:-0}))
failed=$((failed + ${unit_fail:-0}))

for script in tests/cli/*_test.sh tests/fakes/test_*.py tests/integration/*_test.py; do
    [[ -x "$script" ]] || continue
    echo "== $script"
    "$script" "$out/wabridge" | tee "$out/$(basename "$script").log"
    p=$(grep -c '^ok - ' "$out/$(basename "$script").log")
    f=$(grep -c '^not ok - ' "$out/$(basename "$script").log")
    passed=$((passed + p))
    failed=$((failed + f))
done

for target in "$@"; do
    echo "== fuzz smoke: $target (${fuzz_seconds} s)"
    if tools/run_fuzz.sh "$out/fuzz/$target" "$fuzz_seconds"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
