# One image for every process mode: `web` (default), `worker`, `all`, `migrate`, `admin …`.
# Build: docker build -t cairn .
# Local try-out with the embedded PostgreSQL kept in a volume:
#   docker run --rm -p 3000:3000 -v cairn-data:/var/lib/cairn cairn all

# --- build: all dependencies, then the Remix classic compiler (build/ and public/build/) ---
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: the lockfile lacks some non-Linux optional packages, which `npm ci` refuses.
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies, server sources (run by tsx) and the built UI ---
FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    CAIRN_DATA_DIR=/var/lib/cairn
WORKDIR /app

# Unprivileged user; the data directory (embedded PostgreSQL when DATABASE_URL is unset) is the only place it writes
# besides /tmp. PostgreSQL refuses to run as root, so running as this user also lets the embedded database start.
RUN groupadd --system --gid 10001 cairn \
 && useradd --system --uid 10001 --gid cairn --home-dir /var/lib/cairn --no-create-home --shell /usr/sbin/nologin cairn \
 && mkdir -p /var/lib/cairn \
 && chown cairn:cairn /var/lib/cairn \
 && chmod 0750 /var/lib/cairn \
 && printf '#!/bin/sh\nexec node /app/bin/cairn.js "$@"\n' > /usr/local/bin/cairn \
 && chmod 0755 /usr/local/bin/cairn

COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Application files stay owned by root: the process can read them but not change them.
COPY bin/ ./bin/
COPY server/ ./server/
COPY db/ ./db/
COPY drizzle/ ./drizzle/
COPY remix.config.js tsconfig.json ./
COPY --from=build /app/build/ ./build/
COPY --from=build /app/public/ ./public/

USER cairn
EXPOSE 3000

# Web and all answer on PORT; a worker answers only on CAIRN_WORKER_PORT, so fall back to that. No curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const e=process.env,up=p=>fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>r.ok,()=>false);up(e.PORT||3000).then(ok=>ok||up(e.CAIRN_WORKER_PORT||3001)).then(ok=>process.exit(ok?0:1))"]

ENTRYPOINT ["node", "/app/bin/cairn.js"]
CMD ["web"]
