# avaturn-broker: the broker by default; the same image runs the upstream simulator and the demo
# with another command (see docker-compose.yml). No secret is baked in: configuration comes from
# the environment at run time.

# Build: compile the broker, the simulator and the demo, and bundle the example page.
FROM node:22.23.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The frontend client is a workspace: npm ci links it, and the build copies it to dist/client.
COPY packages/client/package.json ./packages/client/
# No install script is needed here: esbuild's and swc's binaries come as optional platform
# packages, and the `node` devDependency (a Node 22 for older machines) is moot on this base.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.demo.json ./
COPY packages/client ./packages/client
COPY src ./src
COPY scripts ./scripts
COPY examples ./examples
RUN npm run build

# Production dependencies alone, so no devDependency can reach the runtime image.
FROM node:22.23.3-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Without the client workspace: the runtime needs none of it, nor a link to a folder it lacks.
RUN npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund

FROM node:22.23.3-bookworm-slim
# tini as PID 1 forwards SIGTERM to node and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# node itself, never `npm start`: npm exits at once on SIGTERM without waiting for the server's drain.
CMD ["node", "dist/server.js"]
