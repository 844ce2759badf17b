# One image for the server and the worker; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json turbo.json tsconfig.json ./
COPY apps ./apps
COPY packages ./packages
COPY prisma ./prisma
COPY test/package.json ./test/package.json
RUN npm ci --no-audit --no-fund --include=dev && npm run generate
RUN mkdir -p /var/lib/modelfleet && chown node:node /var/lib/modelfleet
USER node
EXPOSE 3000
CMD ["npx", "tsx", "apps/server/src/server.ts"]
