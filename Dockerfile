# One image for both apps; docker-compose.yml chooses which one a container runs.
FROM node:24-bookworm-slim AS build
# The engine's build compiles Conifer's usearch binding (packages/engine/native) with these; without them it falls
# back to usearch's prebuilt binary (slower graph searches at scale).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json jest.base.js prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY packages ./packages
COPY apps ./apps
RUN npm ci && npx turbo run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 8080 8081
CMD ["node", "apps/gateway/dist/main.js"]
