# wabridge container image (see docs/DEPLOY.md).
#
#   docker build -t wabridge .
#   docker run --rm --network host --env-file /etc/wabridge/env --stop-timeout 45 wabridge
#
# Why Debian (bookworm-slim) and not Alpine or a Node base image: wabridge is a native WebRTC
# endpoint. It links libnice (ICE), OpenSSL 3 (DTLS), libsrtp2, libopus and libspeexdsp from
# Debian 12 packages and compiles llhttp from Debian's node-llhttp sources; `make test` runs
# against exactly those versions, so the image uses the same distribution and release. The
# earlier Node.js attempts at this bridge failed on Alpine images; native WebRTC stacks are
# built and tested against glibc distributions, and nothing in wabridge has been built or
# tested against musl.
#
# Why host networking or a wide published UDP range: every call binds its own UDP port in
# RTP_PORT_MIN..RTP_PORT_MAX and advertises it in the SDP answer. WhatsApp's media relay sends
# STUN, DTLS and SRTP to exactly that address and port, so each port in the range must be reachable
# under the same number from outside. Either run with `--network host` (Linux; simplest, no NAT
# inside the host) or publish the whole range one to one (`-p 10000-10100:10000-10100/udp`) and set
# PUBLIC_IP to the host's public address. Publishing a large range with Docker's userland proxy
# starts one proxy per port; prefer host networking.
#
# Docker's default stop timeout is 10 s, shorter than DRAIN_SECONDS (30): pass `--stop-timeout`
# (compose: `stop_grace_period`, Kubernetes: `terminationGracePeriodSeconds`) above DRAIN_SECONDS
# or active calls are killed instead of drained.

############################ build stage ############################
FROM debian:bookworm-slim AS build

# The build half of tools/deps.sh: toolchain, the -dev packages `pkg-config` resolves in the
# Makefile (openssl libsrtp2 nice opus speexdsp; glib comes with nice), nlohmann-json headers,
# and node-llhttp, whose generated C sources (/usr/share/llhttp/*.c and
# /usr/share/include/llhttp/llhttp.h) third_party/llhttp/llhttp.mk compiles into the binary.
# The test-only packages (gtest, benchmark, clang, pion, aiortc, espeak-ng, ...) are left out.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        g++ make pkg-config \
        libssl-dev libsrtp2-dev libnice-dev libglib2.0-dev libopus-dev libspeexdsp-dev \
        node-llhttp nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what `make build/wabridge` reads (the rest is excluded by .dockerignore as well).
COPY Makefile ./
COPY third_party/ third_party/
COPY include/ include/
COPY src/ src/
# The Makefile lists tests/, bench/ and fuzz/ sources with `find` when it is parsed; empty
# directories keep that quiet without copying them in.
RUN mkdir -p tests bench fuzz \
 && make -j"$(nproc)" build/wabridge \
 && build/wabridge --version \
 && strip --strip-debug -o /wabridge build/wabridge

############################ runtime stage ############################
FROM debian:bookworm-slim

# Runtime libraries: the Debian packages owning the shared objects build/wabridge is linked
# against (ldd + dpkg -S on a bookworm build; their own dependencies, e.g. GnuTLS and gupnp-igd
# for libnice, come in through apt):
#   libssl.so.3 libcrypto.so.3 -> libssl3       libsrtp2.so.1 -> libsrtp2-1
#   libnice.so.10 -> libnice10                  libglib/gobject/gio-2.0 -> libglib2.0-0
#   libopus.so.0 -> libopus0                    libspeexdsp.so.1 -> libspeexdsp1
#   libstdc++.so.6 -> libstdc++6                (libc6, libgcc-s1: already in the base image)
# ca-certificates: the system CA store for wss://api.openai.com and https://graph.facebook.com
# (unless OPENAI_CA_FILE / WHATSAPP_CA_FILE name other PEM files). It pulls in `openssl`, whose
# /usr/lib/ssl/certs -> /etc/ssl/certs link is where libssl3's default verify paths look.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libssl3 libsrtp2-1 libnice10 libglib2.0-0 libopus0 libspeexdsp1 libstdc++6 \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wabridge \
 && useradd --system --uid 10001 --gid wabridge --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin wabridge

COPY --from=build /wabridge /usr/local/bin/wabridge

# Defaults of the settings the image itself depends on (EXPOSE below matches them). Secrets
# (OPENAI_API_KEY, WHATSAPP_*, BRIDGE_API_TOKEN, CALL_EVENTS_SECRET) are never baked in: pass
# them at run time (--env-file). See deploy/env.example for the full list.
ENV PORT=8080 \
    BIND_ADDRESS=0.0.0.0 \
    RTP_PORT_MIN=10000 \
    RTP_PORT_MAX=10100 \
    DRAIN_SECONDS=30 \
    LOG_LEVEL=info \
    LOG_FORMAT=json

# HTTP control plane (webhooks, session API, /health, /metrics; plain HTTP, put TLS in front).
EXPOSE 8080/tcp
# Media: one UDP port per call (per ICE address), RTP_PORT_MIN..RTP_PORT_MAX.
EXPOSE 10000-10100/udp

USER wabridge:wabridge

# No curl or wget in the image: bash (Essential in Debian, so always present) opens the TCP
# connection itself through /dev/tcp, and grep checks the JSON. It connects to 127.0.0.1, so
# BIND_ADDRESS must be 0.0.0.0 or 127.0.0.1 for it to work (override HEALTHCHECK otherwise;
# with --network host it checks the host's loopback, which is the same process). Healthy means
# {"status":"healthy",...}; a draining process answers {"status":"draining",...} and is
# reported unhealthy, so routers that follow Docker health stop sending it new calls.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && grep -q '\"status\":\"healthy\"' <&3"]

# SIGTERM (and SIGINT) start the drain: /health says draining, new sessions get 503 with
# Retry-After, active calls have DRAIN_SECONDS to finish, then the process exits 0. The binary
# takes signals through a signalfd, so it drains correctly as PID 1 without an init.
STOPSIGNAL SIGTERM

ENTRYPOINT ["/usr/local/bin/wabridge"]
