/**
 * `modelfleet-agent run`: poll, act, sleep (server interval + jitter), back off on errors (exponential, full
 * jitter, capped). SIGTERM aborts the signal: a sleep or download in progress is abandoned (the partial file
 * stays for the next start), an install in progress is finished, and the loop returns.
 */
import { delayAfterFailureMs, pollDelayMs, type Random } from './backoff.js';
import type { Agent, CheckOutcome } from './agent.js';
import type { AgentConfig } from './config.js';
import type { AgentLogger } from './log.js';

export interface DaemonOptions {
  agent: Agent;
  config: AgentConfig;
  log: AgentLogger;
  signal: AbortSignal;
  random?: Random;
  /** Test seam: observe each round's outcome and the chosen delay. */
  onRound?: (round: { outcome: CheckOutcome | null; error: unknown; delayMs: number }) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Outcomes after which the next round should wait like after an error (the server is serving something wrong). */
const BACK_OFF_ON: ReadonlySet<CheckOutcome['kind']> = new Set(['refused', 'failed']);

export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { agent, config, log, signal } = options;
  const random = options.random ?? Math.random;
  await agent.recover();
  let failures = 0;
  log.info({ dataDir: config.dataDir, server: config.serverUrl }, 'agent running');
  while (!signal.aborted) {
    let outcome: CheckOutcome | null = null;
    let error: unknown = null;
    try {
      outcome = await agent.checkForUpdate(signal);
    } catch (caught) {
      error = caught;
    }
    if (signal.aborted) break;
    let delayMs: number;
    if (error !== null || (outcome !== null && BACK_OFF_ON.has(outcome.kind))) {
      failures += 1;
      const asked = (error as { details?: { retryAfterSeconds?: unknown } } | null)?.details?.retryAfterSeconds;
      delayMs = delayAfterFailureMs(
        failures,
        config.backoffBaseSeconds,
        config.backoffCapSeconds,
        typeof asked === 'number' ? asked : undefined,
        random,
      );
      log.warn({ failures, delayMs, err: error ?? undefined, outcome: outcome?.kind }, 'round failed; backing off');
    } else {
      if (failures > 0) log.info({ after: failures }, 'server reachable again');
      failures = 0;
      delayMs = pollDelayMs(agent.pollAfterSeconds(), config.minPollSeconds, random);
      log.info(
        { outcome: outcome?.kind, release: outcome && 'release' in outcome ? outcome.release : null, delayMs },
        'round done',
      );
    }
    options.onRound?.({ outcome, error, delayMs });
    await sleep(delayMs, signal);
  }
  log.info({}, 'agent stopped');
}
