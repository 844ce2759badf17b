import { setTimeout as delay } from 'node:timers/promises';
import type { ModelVersion } from '@modelfleet/contracts';
import type { ApiClient } from './client.js';
import { ServerUnreachable, WaitTimedOut } from './errors.js';

export interface WaitOptions {
  intervalMs: number;
  timeoutMs: number;
  now?: () => number;
  onUpdate?: (version: ModelVersion) => void;
  /** Consecutive network failures tolerated (a server restart in the middle of a job), default 5. */
  networkRetries?: number;
}

export function isFinished(version: Pick<ModelVersion, 'status'>): boolean {
  return version.status === 'ready' || version.status === 'failed';
}

/** Polls a version until its optimize job is `ready` or `failed`, reporting every answer. */
export async function waitForVersion(
  client: ApiClient,
  line: string,
  id: string,
  options: WaitOptions,
): Promise<ModelVersion> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  let failures = 0;
  for (;;) {
    let version: ModelVersion | undefined;
    try {
      version = await client.getVersion(line, id);
      failures = 0;
    } catch (error) {
      if (!ServerUnreachable.is(error) || ++failures > (options.networkRetries ?? 5)) throw error;
    }
    if (version !== undefined) {
      options.onUpdate?.(version);
      if (isFinished(version)) return version;
    }
    const elapsed = now() - startedAt;
    if (elapsed >= options.timeoutMs)
      throw new WaitTimedOut(id, version?.status ?? 'unknown', String(Math.round(elapsed / 1000)));
    await delay(options.intervalMs);
  }
}
