#!/usr/bin/env bash
# Installs every Debian package that building and testing wabridge need.
# Non-interactive and idempotent: apt is touched only when a package is missing,
# and a fresh machine (no package lists yet) gets `apt-get update` first.
set -euo pipefail

PACKAGES=(
    # toolchain
    g++ make pkg-config clang-14 libclang-rt-14-dev
    # libraries from the design card
    libssl-dev libsrtp2-dev libnice-dev libglib2.0-dev libopus-dev libspeexdsp-dev
    node-llhttp nlohmann-json3-dev
    # unit tests and benchmarks
    libgtest-dev libbenchmark-dev
    # CLI and integration tests, and the independent WebRTC peers (pion, aiortc)
    openssl python3 python3-aiortc golang-go golang-github-pion-webrtc.v3-dev
    # speech tests: espeak-ng says the words, opus-tools/sox move audio, pocketsphinx hears them
    espeak-ng sox opus-tools pocketsphinx pocketsphinx-en-us
    # the fake OpenAI Realtime server (WebSocket, schema validation)
    python3-websockets python3-jsonschema
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
