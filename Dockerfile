# openconsult container image, on Debian 12 (bookworm). The build stage mirrors scripts/setup.sh
# step by step: (1) the mediasoup worker built from Debian packages by scripts/build-worker.sh,
# (2) npm dependencies from the npm registry only (mediasoup's downloading install script stays
# disabled; better-sqlite3 compiles against the image's own Node.js headers), (3) the worker put
# where mediasoup looks for it, (5) the browser assets; then the release tree is laid out by
# scripts/bundle.ts exactly as `npm run bundle` lays it out (server compiled into it, production
# packages only, build leftovers trimmed), which the tests unpack and start offline. Nothing is
# fetched from anywhere but Debian and the npm registry. The image runs as a non-root user.
#
#   docker build -t openconsult .
#   docker run -p 3000:3000 -p 40000-40099:40000-40099/udp -p 40000-40099:40000-40099/tcp \
#     -e PUBLIC_URL=https://video.example.nhs.uk -e ANNOUNCED_ADDRESS=203.0.113.10 \
#     -v openconsult-data:/var/lib/openconsult openconsult
#   docker exec <container> /opt/openconsult/bin/openconsult backup     # consistent backup
#
# The media port range here is 100 ports (about 50 participants at once); widen RTC_MIN_PORT /
# RTC_MAX_PORT and the published range together. NODE_VERSION picks the Node.js major (the
# README explains why production runs the current LTS).

ARG NODE_VERSION=24

# ---- build ---------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates g++ make python3 patch meson ninja-build pkg-config \
      libuv1-dev libssl-dev libsrtp2-dev libabsl-dev libusrsctp-dev flatbuffers-compiler libflatbuffers-dev \
 && rm -rf /var/lib/apt/lists/*
# better-sqlite3: no prebuilt download attempt, headers from the image's Node.js (no download).
ENV npm_config_build_from_source=true npm_config_nodedir=/usr/local
WORKDIR /src

# 1. The worker (its own layer: it changes only with the script or its patches).
COPY scripts/build-worker.sh scripts/
COPY scripts/worker-patches scripts/worker-patches
RUN OPENCONSULT_CACHE_DIR=/opt/cache bash scripts/build-worker.sh > /tmp/worker-path

# 2. npm dependencies, from the lock file.
COPY package.json package-lock.json ./
RUN MEDIASOUP_WORKER_BIN="$(cat /tmp/worker-path)" npm ci --no-audit --no-fund

# 3. The worker where mediasoup looks for it; 5. the browser assets; then the release tree
#    (scripts/bundle.ts compiles the server into it and runs `bin/openconsult check` on it).
COPY . .
RUN mkdir -p node_modules/mediasoup/worker/out/Release \
 && cp "$(cat /tmp/worker-path)" node_modules/mediasoup/worker/out/Release/mediasoup-worker \
 && npx tsx scripts/build-client.ts \
 && npx tsx scripts/bundle.ts --skip-setup --no-node --stage /opt/openconsult

# ---- run -----------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
# The worker's Debian runtime libraries (bin/openconsult checks them at start).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623 libnss3 libnspr4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /var/lib/openconsult --no-create-home --shell /usr/sbin/nologin openconsult \
 && install -d -m 0700 -o openconsult -g openconsult /var/lib/openconsult
COPY --from=build /opt/openconsult /opt/openconsult
USER openconsult
WORKDIR /var/lib/openconsult
ENV NODE_ENV=production DATA_DIR=/var/lib/openconsult HOST=0.0.0.0 PORT=3000 RTC_MIN_PORT=40000 RTC_MAX_PORT=40099
VOLUME /var/lib/openconsult
EXPOSE 3000/tcp 40000-40099/udp 40000-40099/tcp
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM: new consultations refused, browsers told to reconnect, database flushed (docker stop).
STOPSIGNAL SIGTERM
CMD ["/opt/openconsult/bin/openconsult"]
