/** The agent's own bookkeeping (state.json): what `status` shows besides the `current`/`previous` links. */
import { readJsonOrNull, replaceFileAtomically } from './durable.js';
import type { DataLayout } from './layout.js';

export interface AgentState {
  lastPollAt: string | null;
  lastOutcome: string | null;
  lastError: { code: string; message: string; at: string } | null;
  /** Artifacts this device refused for good (failed smoke test, refused manifest): not retried. */
  refused: Record<string, { release: number; reason: string; at: string }>;
}

export const EMPTY_STATE: AgentState = { lastPollAt: null, lastOutcome: null, lastError: null, refused: {} };

export async function readAgentState(layout: DataLayout): Promise<AgentState> {
  return { ...EMPTY_STATE, ...((await readJsonOrNull<Partial<AgentState>>(layout.stateFile)) ?? {}) };
}

export async function writeAgentState(layout: DataLayout, state: AgentState): Promise<void> {
  await replaceFileAtomically(layout.stateFile, JSON.stringify(state, null, 2));
}

/** Device identity from enrolment (device.json, mode 0600: it holds the device's credential). */
export interface DeviceIdentity {
  deviceId: string;
  deviceToken: string;
  line: string | null;
  channel: string | null;
  enrolledAt: string;
}

export async function readDeviceIdentity(layout: DataLayout): Promise<DeviceIdentity | null> {
  return readJsonOrNull<DeviceIdentity>(layout.deviceFile);
}

export async function writeDeviceIdentity(layout: DataLayout, identity: DeviceIdentity): Promise<void> {
  await replaceFileAtomically(layout.deviceFile, JSON.stringify(identity, null, 2), 0o600);
}
