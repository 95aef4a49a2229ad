#!/usr/bin/env bash
# Black-box tests of the wabridge binary: the `sdp` CLI, configuration errors, --help,
# --version and a start/stop of the bridge with JSON logs.
#   usage: tests/cli/sdp_cli_test.sh path/to/wabridge     (run from the repo root)
# Prints "ok - NAME" / "not ok - NAME" per case and "cli: N passed, M failed" at the end;
# exits non-zero when a case failed.
set -u

if [[ $# -ne 1 ]]; then
    echo "usage: $0 path/to/wabridge" >&2
    exit 2
fi
BIN=$1
if [[ ! -x $BIN ]]; then
    echo "$0: $BIN is not an executable" >&2
    exit 2
fi
[[ $BIN == */* ]] || BIN=./$BIN
if [[ ! -d tests/data/sdp ]]; then
    echo "$0: run from the repository root (tests/data/sdp not found)" >&2
    exit 2
fi

WA=tests/data/sdp/whatsapp
PEERS=tests/data/sdp/peers
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wabridge-cli-test.XXXXXX")
BRIDGE_PID=
cleanup() {
    if [[ -n $BRIDGE_PID ]] && kill -0 "$BRIDGE_PID" 2>/dev/null; then
        kill -KILL "$BRIDGE_PID" 2>/dev/null
        wait "$BRIDGE_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
# Reasons of the current case; a case passes when none were recorded.
reasons=()

fail() { reasons+=("$*"); }

finish() {
    local name=$1
    if [[ ${#reasons[@]} -eq 0 ]]; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "not ok - $name"
        local r
        for r in "${reasons[@]}"; do echo "#   $r"; done
        failed=$((failed + 1))
    fi
    reasons=()
}

# run OUT ERR CMD...: runs CMD with stdin from /dev/null (unless redirected by the caller),
# stores stdout/stderr in files and the exit status in $rc. Each run is capped at 10 s.
run() {
    local out=$1 err=$2
    shift 2
    timeout 10 "$@" >"$out" 2>"$err" </dev/null
    rc=$?
}

hex() { od -An -tx1 | tr -d ' \n'; }

line_count() { # number of '\n' in a file
    tr -cd '\n' <"$1" | wc -c | tr -d ' '
}

expect_rc() { # expected actual what
    [[ $2 -eq $1 ]] || fail "$3: exit status $2, expected $1"
}

expect_contains() { # file fixed-string
    grep -qF -- "$2" "$1" || fail "$(basename "$1") does not contain '$2'"
}

expect_empty() {
    [[ ! -s $1 ]] || fail "$(basename "$1") is not empty: $(head -c 200 "$1")"
}

expect_one_line() {
    local n
    n=$(line_count "$1")
    [[ $n -eq 1 ]] || fail "$(basename "$1") has $n lines, expected 1: $(head -c 300 "$1")"
    [[ -s $1 && $(tail -c 1 "$1" | hex) == 0a ]] ||
        fail "$(basename "$1") does not end with a newline"
}

# The checks every answer must pass: CRLF everywhere, one sha-256 fingerprint, setup active.
check_answer() {
    local out=$1
    [[ -s $out ]] || { fail "empty answer"; return; }
    [[ $(head -c 5 "$out" | hex) == 763d300d0a ]] || fail "answer does not start with v=0 CRLF"
    local lines crlf
    lines=$(line_count "$out")
    crlf=$(grep -c $'\r$' "$out")
    [[ $lines -gt 5 && $lines -eq $crlf ]] || fail "answer has $lines lines but $crlf end in CRLF"
    [[ $(tail -c 2 "$out" | hex) == 0d0a ]] ||
        fail "answer does not end with CRLF"
    local fps
    fps=$(grep -c '^a=fingerprint:' "$out")
    [[ $fps -eq 1 ]] || fail "$fps a=fingerprint lines, expected 1"
    [[ $(grep -c '^a=fingerprint:sha-256 ' "$out") -eq 1 ]] ||
        fail "no a=fingerprint:sha-256 line"
    grep -q $'^a=setup:active\r$' "$out" || fail "no a=setup:active line"
    grep -q $'^a=candidate:.* 127\\.0\\.0\\.1 10000 typ host\r$' "$out" ||
        fail "no host candidate 127.0.0.1 10000"
}

# Every case runs with a clean, deterministic bridge environment.
BASE_ENV=(env -u PORT -u PUBLIC_IP -u RTP_PORT_MIN -u RTP_PORT_MAX -u OPENAI_API_KEY
          -u BRIDGE_API_TOKEN -u LOG_FORMAT -u LOG_LEVEL -u BIND_ADDRESS -u AI_BACKEND
          -u OPENAI_REALTIME_MODEL -u OPENAI_REALTIME_URL -u MAX_SESSIONS
          -u SESSION_MAX_SECONDS ICE_BIND_ADDRESSES=127.0.0.1)

# --- sdp answer for every sample offer ----------------------------------------------------
for offer in "$WA/wa-offer-01.sdp" "$WA/wa-offer-02.sdp" "$WA/wa-doc-offer-uic.sdp" \
    "$PEERS/aiortc-offer.sdp" "$PEERS/chromium-offer.sdp" "$PEERS/pion-offer.sdp"; do
    if [[ ! -f $offer ]]; then
        fail "missing sample $offer"
    else
        run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp answer "$offer"
        expect_rc 0 "$rc" "sdp answer"
        expect_empty "$TMP/err"
        check_answer "$TMP/out"
    fi
    finish "sdp answer $(basename "$offer")"
done

# --- sdp answer - (stdin) -----------------------------------------------------------------
timeout 10 "${BASE_ENV[@]}" "$BIN" sdp answer - <"$WA/wa-offer-01.sdp" >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0 "$rc" "sdp answer -"
expect_empty "$TMP/err"
check_answer "$TMP/out"
finish "sdp answer - reads the offer from stdin"

# --- invalid offer --------------------------------------------------------------------------
{
    head -n 2 "$WA/wa-offer-01.sdp"
    printf 'garbage\r\n'
    tail -n +4 "$WA/wa-offer-01.sdp"
} >"$TMP/bad.sdp"
run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp answer "$TMP/bad.sdp"
expect_rc 2 "$rc" "invalid offer"
expect_empty "$TMP/out"
expect_one_line "$TMP/err"
expect_contains "$TMP/err" "line 3"
finish "sdp answer of an invalid offer exits 2 with one line naming the line"

run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp answer "$WA/wa-offer-04-partial.sdp"
expect_rc 2 "$rc" "partial offer"
expect_empty "$TMP/out"
expect_one_line "$TMP/err"
expect_contains "$TMP/err" "line "
expect_contains "$TMP/err" "fingerprint"
finish "sdp answer of the partial WhatsApp offer exits 2"

run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp answer "$TMP/no-such-file.sdp"
expect_rc 2 "$rc" "missing file"
expect_empty "$TMP/out"
expect_one_line "$TMP/err"
finish "sdp answer of a missing file exits 2"

# --- sdp offer / check ----------------------------------------------------------------------
run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp offer
expect_rc 0 "$rc" "sdp offer"
expect_empty "$TMP/err"
expect_contains "$TMP/out" $'a=setup:actpass\r'
expect_contains "$TMP/out" $'a=rtpmap:111 opus/48000/2\r'
expect_contains "$TMP/out" $'a=rtpmap:126 telephone-event/8000\r'
finish "sdp offer"

run "$TMP/answer.sdp" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp answer "$WA/wa-offer-02.sdp"
run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" sdp check "$WA/wa-offer-02.sdp" "$TMP/answer.sdp"
expect_rc 0 "$rc" "sdp check"
expect_contains "$TMP/out" "OK"
grep -qE '^(FAIL|WARN) ' "$TMP/out" && fail "findings on our own answer: $(cat "$TMP/out")"
finish "sdp check passes our own answer"

# --- configuration errors -------------------------------------------------------------------
run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" PORT=abc timeout 5 "$BIN"
expect_rc 2 "$rc" "PORT=abc"
expect_empty "$TMP/out"
expect_one_line "$TMP/err"
expect_contains "$TMP/err" "PORT"
finish "PORT=abc exits 2 naming PORT"

run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" RTP_PORT_MIN=20000 RTP_PORT_MAX=10000 timeout 5 "$BIN"
expect_rc 2 "$rc" "RTP_PORT_MIN > RTP_PORT_MAX"
expect_empty "$TMP/out"
expect_one_line "$TMP/err"
expect_contains "$TMP/err" "RTP_PORT_MIN"
expect_contains "$TMP/err" "RTP_PORT_MAX"
finish "RTP_PORT_MIN above RTP_PORT_MAX exits 2 naming both"

run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" timeout 5 "$BIN" --no-such-flag
expect_rc 2 "$rc" "unknown flag"
expect_one_line "$TMP/err"
expect_contains "$TMP/err" "--no-such-flag"
finish "an unknown flag exits 2"

# --- --help / --version ---------------------------------------------------------------------
run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" --help
expect_rc 0 "$rc" "--help"
for word in PORT OPENAI_API_KEY OPENAI_REALTIME_MODEL LOG_FORMAT "sdp answer"; do
    expect_contains "$TMP/out" "$word"
done
finish "--help lists the settings and the sdp commands"

run "$TMP/out" "$TMP/err" "${BASE_ENV[@]}" "$BIN" --version
expect_rc 0 "$rc" "--version"
for word in OpenSSL libsrtp2 libnice opus speexdsp llhttp; do
    expect_contains "$TMP/out" "$word"
done
finish "--version names every dependency"

# --- the running bridge: JSON logs, clean SIGTERM, no secret --------------------------------
SECRET=sk-test-SECRET123
FREE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${BASE_ENV[@]}" PORT=$FREE_PORT BIND_ADDRESS=127.0.0.1 LOG_FORMAT=json OPENAI_API_KEY=$SECRET "$BIN" \
    >"$TMP/run.out" 2>"$TMP/run.err" </dev/null &
BRIDGE_PID=$!
ready=0
for _ in $(seq 50); do
    if grep -q 'DTLS certificate ready' "$TMP/run.err" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$BRIDGE_PID" 2>/dev/null || break
    sleep 0.1
done
[[ $ready -eq 1 ]] || fail "no 'DTLS certificate ready' line within 5 s"
kill -TERM "$BRIDGE_PID" 2>/dev/null
stopped=0
for _ in $(seq 50); do
    if ! kill -0 "$BRIDGE_PID" 2>/dev/null; then
        stopped=1
        break
    fi
    sleep 0.1
done
if [[ $stopped -eq 1 ]]; then
    wait "$BRIDGE_PID"
    rc=$?
    expect_rc 0 "$rc" "bridge after SIGTERM"
else
    fail "still running 5 s after SIGTERM"
    kill -KILL "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
fi
BRIDGE_PID=
[[ -s $TMP/run.err ]] || fail "no log output on stderr"
if ! python3 -c '
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        rec = json.loads(line)
    except ValueError as e:
        print("line %d is not JSON (%s): %r" % (n, e, line[:200])); bad += 1; continue
    if not isinstance(rec, dict):
        print("line %d is not an object" % n); bad += 1; continue
    for key in ("ts", "level", "msg"):
        if not isinstance(rec.get(key), str) or not rec[key]:
            print("line %d lacks %s" % (n, key)); bad += 1
sys.exit(1 if bad else 0)
' "$TMP/run.err" >"$TMP/json.txt" 2>&1; then
    fail "stderr is not JSON lines: $(head -c 400 "$TMP/json.txt")"
fi
grep -q '"msg":"draining"' "$TMP/run.err" || fail "no 'draining' log line"
grep -q '"msg":"drained; exiting"' "$TMP/run.err" || fail "no 'drained; exiting' log line"
if grep -qF "$SECRET" "$TMP/run.out" "$TMP/run.err"; then
    fail "the OpenAI API key appears in the output"
fi
finish "the bridge logs JSON, hides the API key and exits 0 on SIGTERM"

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
