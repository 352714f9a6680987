// Vector store entry point: configuration, secrets, logger, indexes loaded from disk, HTTP server on
// config.bind:config.vectorStore.port; SIGTERM/SIGINT stop accepting, finish in-flight requests, flush
// and fsync the logs, then exit.
import { loadConfig, logOptions, resolveSecrets } from '@conifer/config';
import { selectAnnBinding } from '@conifer/engine';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { buildServer } from './api/server.js';
import { listenOnUnixSocket } from './api/unix-listener.js';
import { defaultMallocThreshold, execWithMallocThreshold } from './malloc-threshold.js';
import { canTrimMallocHeap, collectGarbage } from './storage/collect-garbage.js';
import { IndexRegistry } from './storage/index-registry.js';
import { JetStreamHub } from './storage/log/jetstream.js';
import { hostname } from 'node:os';

async function main(): Promise<void> {
  const config = loadConfig();
  // First, before any thread or file is opened: may re-execute the process with glibc's threshold set.
  execWithMallocThreshold(config.vectorStore.mallocMmapThreshold ?? defaultMallocThreshold(canTrimMallocHeap));
  // The same `time` format and base fields as the gateway's lines.
  const logger = pino(logOptions('vector-store', config.logLevel));
  const secrets = resolveSecrets(config);
  const store = config.vectorStore;
  // Before the first graph is opened; the ANN worker follows this thread's choice (AnnBuilder).
  const binding = selectAnnBinding(store.annBinding);
  if (binding.fallbackReason === undefined) logger.info({ annBinding: binding.kind }, 'usearch binding');
  else logger.warn({ annBinding: binding.kind, reason: binding.fallbackReason }, 'usearch binding: the compiled one is not available, graph searches are slower');
  // Replicated mode: waits for NATS at start (the node has nothing to serve before its logs are reachable).
  const hub =
    store.natsUrl === undefined
      ? undefined
      : await JetStreamHub.connect({ servers: store.natsUrl, streamReplicas: store.natsStreamReplicas, prefix: store.natsPrefix }, logger);
  const registry = await IndexRegistry.open(store.dataDir, logger, { annReleaseAfterMs: store.annReleaseAfterMs, annTargetRecall: store.annTargetRecall, annBuildNice: store.annBuildNice, annBuildThreads: store.annBuildThreads, ...(hub === undefined ? {} : { hub }) });
  // The load read each snapshot file whole and decoded its records: tens of MB of buffers that are garbage
  // now, but resident until collected, and a store that only serves queries may not prompt a collection;
  // the load's allocation also grew the young generation, which only a memory-reducing collection shrinks.
  collectGarbage(true);
  const app = buildServer({
    registry,
    internalToken: secrets.internalToken,
    maxBodyBytes: config.vectorStore.maxBodyBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    logger,
    defaultMetrics: true,
    parseWorkers: store.parseWorkers ?? defaultParseWorkers(),
    readWaitMs: store.readWaitMs,
    nodeId: store.nodeId ?? `${hostname()}:${config.vectorStore.port}`,
  });
  await app.listen({ host: config.bind, port: config.vectorStore.port });
  const unixListener = config.vectorStore.socketPath === undefined ? undefined : await listenOnUnixSocket(app.server, config.vectorStore.socketPath);
  logger.info({ dataDir: config.vectorStore.dataDir, indexes: registry.list().length }, 'vector store ready');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    void (async () => {
      try {
        await unixListener?.close();
        await app.close();
        await registry.close();
        await hub?.close();
        logger.info('stopped');
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Upsert bodies are read off the event loop: availableParallelism() − 2 workers from 4 cores on (one core
 * serves requests, one builds ANN graphs), one below. On 2 cores one worker took the event loop's CPU per
 * 1000 × 768 vectors from ~63 to ~25 ms for about the same CPU in total, so the reading of one body overlaps
 * the loop's WAL append and apply of the previous one (bench/RESULTS.md, "Upsert bodies read from the bytes").
 */
function defaultParseWorkers(): number {
  const cores = availableParallelism();
  return cores >= 4 ? cores - 2 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
