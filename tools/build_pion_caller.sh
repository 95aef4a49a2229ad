#!/usr/bin/env bash
# Builds tests/peers/pion_caller offline against Debian's pion packages.
#
#   tools/build_pion_caller.sh OUT_BINARY
#
# Debian's golang-github-pion-webrtc.v3-dev (and its dependencies) install Go sources under
# /usr/share/gocode/src in GOPATH layout, but some of them sit in their unversioned directory
# (github.com/pion/webrtc) while their import path carries a major-version suffix
# (github.com/pion/webrtc/v3). GOPATH mode resolves imports by directory, so those imports fail.
# This script builds a throw-away GOPATH whose src/ is an overlay of symlinks onto
# /usr/share/gocode/src, plus a symlink at every missing versioned import path pointing at the
# unversioned source directory. The missing paths are found generically:
#   1. every go.mod whose `module` line differs from its own directory, and
#   2. as a fallback, imports that `go list -deps` still cannot find and that end in (or
#      contain) a /vN element whose unversioned directory exists; repeated until nothing changes.
# Nothing is downloaded: GO111MODULE=off, GOPROXY=off, GOFLAGS empty.
#
# Idempotent: when OUT_BINARY is newer than the caller's sources, this script and the installed
# pion package, it exits at once. Environment: GOCODE_ROOT (default /usr/share/gocode/src),
# PION_GOPATH (default <repo>/build/gopath), GOCACHE (default $PION_GOPATH/cache).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_BINARY" >&2
    exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$1
[[ "$OUT" = /* ]] || OUT="$PWD/$OUT"
SRC_DIR="$REPO/tests/peers/pion_caller"
ROOT=${GOCODE_ROOT:-/usr/share/gocode/src}
GP=${PION_GOPATH:-$REPO/build/gopath}
SELF="$REPO/tools/build_pion_caller.sh"

die() { echo "build_pion_caller: $*" >&2; exit 1; }

if ! command -v go >/dev/null 2>&1; then
    die "the Go toolchain is missing; install it with: apt-get install -y golang-go"
fi
if [[ ! -f "$ROOT/github.com/pion/webrtc/go.mod" ]]; then
    die "pion sources not found in $ROOT/github.com/pion/webrtc; install them with: apt-get install -y golang-github-pion-webrtc.v3-dev"
fi
[[ -f "$SRC_DIR/main.go" ]] || die "missing $SRC_DIR/main.go"

# Fast path: nothing changed since the last build.
if [[ -x "$OUT" ]]; then
    stale=0
    for f in "$SRC_DIR"/*.go "$SELF" "$ROOT/github.com/pion/webrtc/go.mod"; do
        [[ "$f" -nt "$OUT" ]] && stale=1
    done
    if [[ $stale -eq 0 ]]; then
        echo "build_pion_caller: $OUT is up to date"
        exit 0
    fi
fi

mkdir -p "$GP" "$(dirname "$OUT")"
# Serialise concurrent builds (parallel make) on the overlay.
exec 9>"$GP/.lock"
flock 9

export GOPATH="$GP"
export GO111MODULE=off
export GOPROXY=off
export GOFLAGS=
export GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$GP/cache}
export CGO_ENABLED=0

# --- 1. versioned paths declared by go.mod files -----------------------------------------------
declare -A MAP=()   # import path (relative to src/) -> source dir (relative to ROOT)
while IFS= read -r gomod; do
    dir=${gomod#"$ROOT"/}
    dir=${dir%/go.mod}
    mod=$(sed -n 's/^module[[:space:]]\{1,\}"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' "$gomod" | head -n1)
    [[ -n "$mod" && "$mod" != "$dir" ]] || continue
    [[ -e "$ROOT/$mod" ]] && continue
    MAP[$mod]=$dir
done < <(find -L "$ROOT" -name go.mod -not -path '*/testdata/*' 2>/dev/null | sort)

# --- overlay construction ----------------------------------------------------------------------
# mirror REL: make $GP/src/REL a real directory whose entries are symlinks into $ROOT/REL, except
# the entries that lie on the way to an injected path, which become real directories themselves.
declare -A REAL=()
mirror() {
    local rel=$1 entry name path
    mkdir -p "$GP/src.new/$rel"
    [[ -d "$ROOT/$rel" ]] || return 0
    for entry in "$ROOT/$rel"/* "$ROOT/$rel"/.[!.]*; do
        [[ -e "$entry" || -L "$entry" ]] || continue
        name=${entry##*/}
        path=${rel:+$rel/}$name
        if [[ -n "${REAL[$path]:-}" && -d "$entry" ]]; then
            mirror "$path"
        else
            ln -s "$entry" "$GP/src.new/$path"
        fi
    done
}

build_overlay() {
    REAL=()
    local m p
    for m in "${!MAP[@]}"; do
        p=$m
        while [[ "$p" == */* ]]; do
            p=${p%/*}
            REAL[$p]=1
        done
    done
    rm -rf "$GP/src.new"
    mirror ""
    for m in "${!MAP[@]}"; do
        mkdir -p "$GP/src.new/$(dirname "$m")"
        ln -sfn "$ROOT/${MAP[$m]}" "$GP/src.new/$m"
    done
    rm -rf "$GP/src"
    mv "$GP/src.new" "$GP/src"
}

# The overlay is rebuilt only when the mapping or the set of top-level source dirs changed.
signature() {
    {
        for m in "${!MAP[@]}"; do echo "$m -> ${MAP[$m]}"; done | sort
        ls -1 "$ROOT" "$ROOT"/*/ 2>/dev/null
    } | md5sum | cut -d' ' -f1
}

sig=$(signature)
if [[ ! -d "$GP/src" || "$(cat "$GP/.signature" 2>/dev/null)" != "$sig" ]]; then
    build_overlay
    echo "$sig" >"$GP/.signature"
fi

# --- 2. fallback: imports still missing that carry a /vN element ------------------------------
for _ in 1 2 3 4 5; do
    missing=$(cd "$SRC_DIR" && go list -e -deps -f '{{if .Error}}{{.ImportPath}}{{end}}' . 2>/dev/null |
              grep -E '(^|/)v[0-9]+(/|$)' || true)
    added=0
    for imp in $missing; do
        # Find the /vN element and map the prefix up to it to the unversioned directory.
        IFS=/ read -r -a parts <<<"$imp"
        prefix=""
        for part in "${parts[@]}"; do
            if [[ "$part" =~ ^v[0-9]+$ && -n "$prefix" && -d "$ROOT/$prefix" && ! -e "$GP/src/$prefix/$part" ]]; then
                MAP[$prefix/$part]=$prefix
                added=1
                break
            fi
            prefix=${prefix:+$prefix/}$part
        done
    done
    [[ $added -eq 1 ]] || break
    build_overlay
    signature >"$GP/.signature"
done

# --- build -------------------------------------------------------------------------------------
if ! (cd "$SRC_DIR" && go build -trimpath -o "$OUT.tmp" .); then
    rm -f "$OUT.tmp"
    missing=$(cd "$SRC_DIR" && go list -e -deps -f '{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}' . 2>/dev/null | head -n 20 || true)
    if [[ -n "$missing" ]]; then
        echo "build_pion_caller: packages that could not be resolved in $ROOT:" >&2
        echo "$missing" >&2
        echo "build_pion_caller: is golang-github-pion-webrtc.v3-dev (and its dependencies) installed?" >&2
    fi
    die "go build failed"
fi
mv -f "$OUT.tmp" "$OUT"
echo "build_pion_caller: built $OUT"
