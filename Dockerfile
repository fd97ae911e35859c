# One image for every service; the compose file picks the entry point.
#   docker build -t secrets-service .
FROM oven/bun:1.4.4 AS build
WORKDIR /app
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY proto proto
COPY packages packages
COPY services services
COPY web web
COPY test/package.json test/package.json
RUN bun install --frozen-lockfile && bun run web:build

FROM oven/bun:1.4.4
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=bun:bun /app /app
# 0700: the keys, PGlite's files and the service token live here; no other user may enter it (the vault
# and embedded mode refuse a data directory that group or others can enter).
RUN mkdir -p -m 0700 /app/data && chown bun:bun /app/data
USER bun
# Overridden per service in docker-compose.yml.
CMD ["bun", "services/embedded/src/main.ts"]
