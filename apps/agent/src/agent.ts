/**
 * The agent's one job, step by step: enrol once, poll, verify, download (resumable), install atomically with a
 * smoke test, report. `checkForUpdate` is one round (the `check` command); `runAgent` is the daemon loop.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DeviceReportBody } from '@modelfleet/contracts';
import { isModelFleetError } from '@modelfleet/errors';
import type { Random } from './backoff.js';
import { createDeviceClient, type DeviceClient } from './client.js';
import type { AgentConfig } from './config.js';
import { updateByDelta } from './delta-update.js';
import { completeFile, downloadArtifact } from './download.js';
import { AgentNotEnrolled, DownloadCorrupt, SmokeTestFailed, UpdateRefused } from './errors.js';
import { runInstallHook } from './hook.js';
import { currentRelease, installRelease, recoverDataFolder, type FaultHook } from './install.js';
import { dataLayout, RELEASE_FILES, type DataLayout } from './layout.js';
import type { AgentLogger } from './log.js';
import { createOutbox, type Outbox, type ReportDraft } from './outbox.js';
import { smokeTestFolder, type SmokeResult } from './smoke.js';
import {
  readAgentState,
  readDeviceIdentity,
  writeAgentState,
  writeDeviceIdentity,
  type DeviceIdentity,
} from './state.js';
import { refusalRuleOf, verifyUpdate } from './verify.js';

export type CheckOutcome =
  | { kind: 'up-to-date'; release: number | null }
  | { kind: 'no-release' }
  | {
      kind: 'installed';
      release: number;
      sha256: string;
      /** Bytes received for this update (a failed delta's included when it fell back to the full artifact). */
      bytesFetched: number;
      /** How the artifact arrived: as a delta applied to the installed bundle, or the full file. */
      path: 'delta' | 'full';
      /** Why the offered delta was not used (the update then fetched the full artifact). */
      deltaFallback?: string;
      smokeLatencyMs: number | null;
    }
  | { kind: 'refused'; release: number | null; reason: string }
  | { kind: 'failed'; release: number | null; reason: string }
  | { kind: 'rolled-back'; release: number; reason: string };

export interface AgentDeps {
  config: AgentConfig;
  log: AgentLogger;
  fetch?: typeof fetch;
  now?: () => Date;
  random?: Random;
  /** Test seams. */
  fault?: FaultHook;
  onDownloadProgress?: (bytesOnDisk: number) => void | Promise<void>;
  smoke?: (folder: string, preprocessing: Parameters<typeof smokeTestFolder>[1]) => Promise<SmokeResult>;
}

export interface Agent {
  layout: DataLayout;
  outbox: Outbox;
  /** Start-up: crash recovery of the data folder. */
  recover(): Promise<void>;
  checkForUpdate(signal?: AbortSignal): Promise<CheckOutcome>;
  /** Server-suggested seconds until the next poll (from the last verified offer). */
  pollAfterSeconds(): number;
}

export function createAgent(deps: AgentDeps): Agent {
  const { config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const layout = dataLayout(config.dataDir);
  const outbox = createOutbox(layout.outbox, log, now);
  let identity: DeviceIdentity | null = null;
  let etag: string | null = null;
  let pollAfter = config.pollSeconds;
  const client: DeviceClient = createDeviceClient({
    serverUrl: config.serverUrl,
    deviceToken: () => identity?.deviceToken ?? '',
    timeoutMs: config.requestTimeoutSeconds * 1000,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });

  async function ensureEnrolled(): Promise<DeviceIdentity> {
    if (identity !== null) return identity;
    await fs.mkdir(layout.root, { recursive: true, mode: 0o700 });
    const stored = await readDeviceIdentity(layout);
    if (stored !== null && (config.deviceToken === undefined || stored.deviceToken === config.deviceToken))
      return (identity = stored);
    if (config.deviceToken !== undefined) {
      identity = {
        deviceId: config.deviceId,
        deviceToken: config.deviceToken,
        line: null,
        channel: null,
        enrolledAt: now().toISOString(),
      };
    } else if (config.enrollmentToken !== undefined) {
      const enrolled = await client.enroll(config.enrollmentToken, {
        deviceId: config.deviceId,
        ...(config.tags.length > 0 ? { tags: config.tags } : {}),
        ...(config.hardwareClass !== undefined ? { hardwareClass: config.hardwareClass } : {}),
        runtime: 'tfjs-4.22-wasm',
      });
      identity = {
        deviceId: enrolled.deviceId,
        deviceToken: enrolled.deviceToken,
        line: enrolled.line,
        channel: enrolled.channel,
        enrolledAt: now().toISOString(),
      };
      log.info({ deviceId: enrolled.deviceId, line: enrolled.line, channel: enrolled.channel }, 'enrolled');
    } else {
      throw new AgentNotEnrolled(
        'no device.json in the data folder and neither --device-token nor --enrollment-token given',
      );
    }
    await writeDeviceIdentity(layout, identity);
    return identity;
  }

  async function report(draft: ReportDraft): Promise<void> {
    const queued = await outbox.add(draft);
    log.info({ state: queued.state, release: queued.release, idempotencyKey: queued.idempotencyKey }, 'report queued');
    await flushReports();
  }

  async function flushReports(): Promise<void> {
    try {
      const left = await outbox.flush((body: DeviceReportBody) => client.report(body));
      if (left > 0) log.warn({ pending: left }, 'reports kept in the outbox until the server answers');
    } catch (error) {
      log.warn({ err: error }, 'report flush failed');
    }
  }

  async function remember(outcome: CheckOutcome, error: unknown = null): Promise<CheckOutcome> {
    const state = await readAgentState(layout);
    state.lastPollAt = now().toISOString();
    state.lastOutcome = outcome.kind;
    if (error !== null)
      state.lastError = {
        code: isModelFleetError(error) ? error.code : 'MF_ERR_AGENT_UNEXPECTED',
        message: (error as Error).message,
        at: now().toISOString(),
      };
    else if (outcome.kind === 'installed' || outcome.kind === 'up-to-date' || outcome.kind === 'no-release')
      state.lastError = null;
    await writeAgentState(layout, state);
    return outcome;
  }

  async function check(signal?: AbortSignal): Promise<CheckOutcome> {
    await ensureEnrolled();
    await flushReports();
    const installed = await currentRelease(layout);
    const poll = await client.poll(installed?.sha256 ?? null, etag);
    if (poll.kind === 'not-modified') return remember({ kind: 'up-to-date', release: installed?.release ?? null });
    if (poll.kind === 'no-release') return remember({ kind: 'no-release' });

    let verified;
    try {
      verified = verifyUpdate(poll.answer, {
        trustedKeys: config.trustedKeys,
        installed: installed === null ? null : installed,
        enrolledFor:
          identity?.line != null && identity.channel != null
            ? { line: identity.line, channel: identity.channel }
            : null,
        now: now(),
        clockSkewSeconds: config.clockSkewSeconds,
      });
    } catch (error) {
      if (!UpdateRefused.is(error)) throw error;
      const rule = refusalRuleOf(error);
      log.warn({ err: error, rule }, 'update refused');
      // An expired offer may be our clock: ask again next time. Anything else is this answer's fault: the same
      // ETag will not be processed (nor reported) again.
      if (rule !== 'expired') etag = poll.etag;
      const claimed = (poll.answer as { offer?: { signed?: { release?: unknown } } } | null)?.offer?.signed?.release;
      const release = Number.isInteger(claimed) && (claimed as number) >= 1 ? (claimed as number) : undefined;
      await report({
        state: 'failed',
        ...(release !== undefined ? { release } : {}),
        error: error.message.slice(0, 2000),
      });
      return remember({ kind: 'refused', release: release ?? null, reason: error.message }, error);
    }
    const { offer } = verified;
    pollAfter = offer.pollAfterSeconds;
    if (verified.alreadyInstalled) {
      etag = poll.etag;
      return remember({ kind: 'up-to-date', release: offer.release });
    }
    const state = await readAgentState(layout);
    if (state.refused[offer.target.sha256] !== undefined) {
      etag = poll.etag;
      log.info(
        { release: offer.release, sha256: offer.target.sha256 },
        'offer names an artifact this device refused before; staying',
      );
      return remember({ kind: 'up-to-date', release: installed?.release ?? null });
    }

    const release = offer.release;
    const sha256 = offer.target.sha256;
    log.info({ release, sha256, size: offer.target.size }, 'update offered');
    await report({ state: 'downloading', release, artifactSha256: sha256 });

    // A delta from what this device runs, when offered; any failure falls back to the full artifact below.
    let download: { file: string; bytesFetched: number; bytesResumed: number } | undefined;
    let via: 'delta' | 'full' = 'full';
    let deltaFallback: string | undefined;
    let deltaBytes = 0;
    if (offer.delta !== null && installed !== null && offer.delta.from === installed.sha256) {
      const byDelta = await updateByDelta({
        layout,
        installedSha256: installed.sha256,
        delta: offer.delta,
        target: { sha256, size: offer.target.size },
        url: client.blobUrl(offer.delta.url),
        token: identity!.deviceToken,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(signal ? { signal } : {}),
        ...(deps.onDownloadProgress ? { onProgress: (bytes: number) => void deps.onDownloadProgress?.(bytes) } : {}),
      });
      if (byDelta.ok) {
        download = byDelta;
        via = 'delta';
        log.info({ release, deltaBytes: byDelta.bytesFetched, fullBytes: offer.target.size }, 'delta applied');
      } else {
        deltaBytes = byDelta.bytesFetched;
        deltaFallback = `delta ${byDelta.step} failed (${byDelta.code}): ${byDelta.reason}`.slice(0, 1000);
        log.warn(
          { release, step: byDelta.step, code: byDelta.code, reason: byDelta.reason, deltaBytes },
          'delta failed; fetching the full artifact',
        );
      }
    }
    if (download === undefined)
      try {
        download = await downloadArtifact({
          url: client.blobUrl(offer.target.url),
          token: identity!.deviceToken,
          sha256,
          size: offer.target.size,
          downloadsDir: layout.downloads,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
          ...(signal ? { signal } : {}),
          ...(deps.onDownloadProgress ? { onProgress: (bytes: number) => void deps.onDownloadProgress?.(bytes) } : {}),
        });
      } catch (error) {
        if (!DownloadCorrupt.is(error)) throw error;
        const fetched = (error.details?.fetched as number | undefined) ?? 0;
        await report({
          state: 'failed',
          release,
          artifactSha256: sha256,
          error:
            deltaFallback === undefined ? error.message : `${error.message}; after ${deltaFallback}`.slice(0, 2000),
          download: { kind: 'full', bytes: fetched + deltaBytes },
        });
        return remember({ kind: 'failed', release, reason: error.message }, error);
      }
    // Bytes received for this update: a failed delta's count with the full file that replaced it.
    const received = download.bytesFetched + deltaBytes;
    log.info({ release, path: via, bytesFetched: received, bytesResumed: download.bytesResumed }, 'downloaded');
    await report({
      state: 'downloaded',
      release,
      artifactSha256: sha256,
      download: { kind: via, bytes: received },
      ...(deltaFallback !== undefined ? { error: deltaFallback } : {}),
    });

    let installedNow;
    try {
      installedNow = await installRelease({
        layout,
        bundleFile: download.file,
        manifest: verified.answer.releaseManifest,
        installMode: config.installMode,
        smoke: deps.smoke ?? smokeTestFolder,
        fault: async (step) => {
          log.info({ step, release }, 'install step');
          await deps.fault?.(step);
        },
        now,
      });
    } catch (error) {
      if (SmokeTestFailed.is(error)) {
        const after = await readAgentState(layout);
        after.refused[sha256] = { release, reason: error.message, at: now().toISOString() };
        await writeAgentState(layout, after);
        await fs.rm(completeFile(layout.downloads, sha256), { force: true });
        etag = poll.etag;
        log.warn({ err: error, release, keeps: installed?.release ?? null }, 'smoke test failed; rolled back');
        await report({ state: 'rolled-back', release, artifactSha256: sha256, error: error.message.slice(0, 2000) });
        return remember({ kind: 'rolled-back', release, reason: error.message }, error);
      }
      await report({
        state: 'failed',
        release,
        artifactSha256: sha256,
        error: (error as Error).message.slice(0, 2000),
      });
      return remember({ kind: 'failed', release, reason: (error as Error).message }, error);
    }
    await fs.rm(completeFile(layout.downloads, sha256), { force: true });
    etag = poll.etag;
    log.info(
      { release, sha256, previous: installedNow.previous, smokeLatencyMs: installedNow.record.smokeLatencyMs },
      'installed',
    );

    let hookError: string | undefined;
    if (config.onInstall !== undefined) {
      const modelDir = path.join(
        layout.current,
        config.installMode === 'stock' ? RELEASE_FILES.stock : RELEASE_FILES.model,
      );
      const hook = await runInstallHook(config.onInstall, {
        MODELFLEET_MODEL_PATH: modelDir,
        MODELFLEET_RELEASE_PATH: installedNow.folder,
        MODELFLEET_RELEASE: String(release),
        MODELFLEET_ARTIFACT_SHA256: sha256,
      });
      if (!hook.ok) {
        hookError = `on-install hook failed: ${hook.detail}`;
        log.warn({ detail: hook.detail }, 'on-install hook failed');
      }
    }
    await report({
      state: 'installed',
      release,
      artifactSha256: sha256,
      download: { kind: via, bytes: received },
      ...(installedNow.record.smokeLatencyMs !== null ? { smokeLatencyMs: installedNow.record.smokeLatencyMs } : {}),
      ...(hookError !== undefined ? { error: hookError } : {}),
    });
    return remember({
      kind: 'installed',
      release,
      sha256,
      bytesFetched: received,
      path: via,
      ...(deltaFallback !== undefined ? { deltaFallback } : {}),
      smokeLatencyMs: installedNow.record.smokeLatencyMs,
    });
  }

  return {
    layout,
    outbox,
    async recover() {
      await fs.mkdir(layout.root, { recursive: true, mode: 0o700 });
      const recovery = await recoverDataFolder(layout);
      if (recovery.removed.length > 0 || recovery.repointed !== null)
        log.warn({ ...recovery }, 'recovered the data folder after an interrupted run');
    },
    async checkForUpdate(signal) {
      try {
        return await check(signal);
      } catch (error) {
        await remember({ kind: 'failed', release: null, reason: (error as Error).message }, error).catch(() => {});
        throw error;
      }
    },
    pollAfterSeconds: () => pollAfter,
  };
}
