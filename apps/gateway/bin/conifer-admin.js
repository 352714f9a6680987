#!/usr/bin/env node
// Launcher of the conifer-admin CLI (workspace bin, so `npx conifer-admin` works after `npm install`); the
// program itself is built into dist/ by `npm run build -w @conifer/gateway`.
let cli;
try {
  cli = await import('../dist/cli/conifer-admin.js');
} catch (error) {
  process.stderr.write(`conifer-admin: not built yet (${error.message}); run: npm run build -w @conifer/gateway\n`);
  process.exit(2);
}
await cli.cliMain();
