# openconsult container image. It mirrors scripts/setup.sh step by step: the mediasoup worker is
# built from Debian 12 (bookworm) packages by scripts/build-worker.sh, npm dependencies come from
# the npm registry only (mediasoup's downloading install script stays disabled), then tsc and
# esbuild build dist/. Nothing is fetched from anywhere else.
#
#   docker build -t openconsult .
#   docker run -p 3000:3000 -p 40000-40099:40000-40099/udp -p 40000-40099:40000-40099/tcp \
#     -e PUBLIC_URL=https://video.example.nhs.uk -e ANNOUNCED_ADDRESS=203.0.113.10 \
#     -v openconsult-data:/var/lib/openconsult openconsult

# ---- build ---------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates g++ make python3 patch meson ninja-build pkg-config \
      libuv1-dev libssl-dev libsrtp2-dev libabsl-dev libusrsctp-dev flatbuffers-compiler libflatbuffers-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# 1. The worker (its own layer: it changes only with the script or its patches).
COPY scripts/build-worker.sh scripts/
COPY scripts/worker-patches scripts/worker-patches
RUN OPENCONSULT_CACHE_DIR=/opt/cache bash scripts/build-worker.sh > /tmp/worker-path

# 2. npm dependencies, from the lock file.
COPY package.json package-lock.json ./
RUN MEDIASOUP_WORKER_BIN="$(cat /tmp/worker-path)" npm ci --no-audit --no-fund

# 3. The worker where mediasoup looks for it; 5. the build; then drop dev dependencies.
COPY . .
RUN mkdir -p node_modules/mediasoup/worker/out/Release \
 && cp "$(cat /tmp/worker-path)" node_modules/mediasoup/worker/out/Release/mediasoup-worker \
 && npx tsc -p tsconfig.build.json \
 && npx tsx scripts/build-client.ts \
 && npm prune --omit=dev --no-audit --no-fund

# ---- run -----------------------------------------------------------------------------------
FROM node:24-bookworm-slim
# The worker's runtime libraries (see README: mediasoup worker).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623 libnss3 libnspr4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/openconsult --shell /usr/sbin/nologin openconsult \
 && mkdir -p /var/lib/openconsult && chown openconsult:openconsult /var/lib/openconsult
WORKDIR /opt/openconsult
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER openconsult
ENV NODE_ENV=production DATA_DIR=/var/lib/openconsult HOST=0.0.0.0 PORT=3000 RTC_MIN_PORT=40000 RTC_MAX_PORT=40099
VOLUME /var/lib/openconsult
EXPOSE 3000 40000-40099/udp 40000-40099/tcp
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server/main.js"]
