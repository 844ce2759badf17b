import {
  VARIANTS,
  type Candidate,
  type ModelLine,
  type ModelVersion,
  type Release,
  type RolloutView,
} from '@modelfleet/contracts';
import type { CliContext, CliOutput } from '../context.js';

/** A stream that keeps what was written, for asserting on the CLI's output. */
export interface CapturedOutput extends CliOutput {
  readonly text: string;
}

export function captureOutput(isTTY = false): CapturedOutput {
  const chunks: string[] = [];
  return {
    isTTY,
    write: (text) => void chunks.push(text),
    get text() {
      return chunks.join('');
    },
  };
}

export function testContext(
  overrides: Partial<CliContext> & { homeDir: string },
): CliContext & { stdout: CapturedOutput; stderr: CapturedOutput } {
  return {
    stdout: captureOutput(),
    stderr: captureOutput(),
    env: {},
    pollIntervalMs: 5,
    ...overrides,
  } as CliContext & {
    stdout: CapturedOutput;
    stderr: CapturedOutput;
  };
}

export function candidate(overrides: Partial<Candidate> = {}): Candidate {
  return {
    id: 'cand-1',
    variant: 'theta0-float32',
    encoding: 'float32',
    artifactSha256: 'a'.repeat(64),
    fileBytes: 3_276_800,
    wireBytes: 3_000_000,
    accuracy: 99.18,
    trainAccuracy: null,
    accuracySimulated: false,
    latencyMedianMs: 23,
    latencyP90Ms: 25.5,
    objective: 0,
    eligible: true,
    ineligibleReason: null,
    winner: false,
    metrics: {},
    ...overrides,
  };
}

export function modelVersion(overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    id: 'ver-1',
    line: 'sorter',
    status: 'ready',
    progress: { stage: 'done', percent: 100 },
    error: null,
    sourceBytes: 3_300_000,
    candidates: [],
    selection: null,
    releaseNumbers: [],
    createdAt: '2026-11-29T19:00:00.000Z',
    finishedAt: '2026-11-29T19:02:00.000Z',
    ...overrides,
  };
}

export function modelLine(overrides: Partial<ModelLine> = {}): ModelLine {
  return {
    id: 'line-1',
    name: 'sorter',
    preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['pet', 'can', 'glass'] },
    policy: {
      variants: [...VARIANTS],
      weights: { size: 1, latency: 1, accuracy: 1 },
      constraints: { maxAccuracyDropPoints: 1 },
      autoPublish: true,
      channel: 'stable',
      latencyRuns: 40,
    },
    createdAt: '2026-11-29T19:00:00.000Z',
    ...overrides,
  };
}

export function release(overrides: Partial<Release> = {}): Release {
  return {
    id: 'rel-1',
    line: 'sorter',
    channel: 'stable',
    number: 3,
    candidateId: 'c2',
    variant: 'theta4-float16',
    artifactSha256: 'c'.repeat(64),
    artifactBytes: 1_650_688,
    manifest: {
      signed: {
        schema: 'modelfleet.release/v1',
        line: 'sorter',
        channel: 'stable',
        release: 3,
        artifact: { sha256: 'c'.repeat(64), size: 1_650_688, encoding: 'float16', variant: 'theta4-float16' },
        preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['pet', 'can', 'glass'] },
        createdAt: '2026-11-29T19:03:00.000Z',
      },
      signatures: [{ keyId: 'key-1', signature: 'sig' }],
    },
    createdAt: '2026-11-29T19:03:00.000Z',
    ...overrides,
  };
}

/** A rollout of release 4 in three waves (10 %, 50 %, 100 %) of 10 devices, the first wave under way. */
export function rolloutView(overrides: Partial<RolloutView> = {}): RolloutView {
  const counts = { pending: 0, in_progress: 0, succeeded: 0, failed: 0, timed_out: 0 };
  const wave = (index: number, percent: number, total: number, succeeded: number) => ({
    index,
    percent,
    devices: [],
    state: (succeeded === total && total > 0 ? 'succeeded' : index === 0 ? 'running' : 'pending') as 'running',
    total,
    counts: { ...counts, succeeded, in_progress: total - succeeded },
    progress: total === 0 ? 0 : succeeded / total,
    startedAt: index === 0 ? new Date(0).toISOString() : null,
    finishedAt: null,
  });
  return {
    id: '0190a8f2-1111-7000-8000-000000000001',
    line: 'sorter',
    channel: 'stable',
    release: 4,
    releaseId: 'rel-4',
    artifactSha256: 'd'.repeat(64),
    rollbackRelease: null,
    tagFilter: [],
    state: 'running',
    stateReason: null,
    currentWave: 0,
    successThreshold: 100,
    errorThreshold: { count: 1 },
    inProgressTimeoutSeconds: 3600,
    autoAdvance: true,
    waves: [wave(0, 10, 1, 0), wave(1, 50, 0, 0), wave(2, 100, 0, 0)],
    targetDevices: 10,
    totals: { members: 1, ...counts, in_progress: 1 },
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    finishedAt: null,
    ...overrides,
  };
}
