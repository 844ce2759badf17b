import { encodeDelta, type EncodeOptions } from '@modelfleet/delta';
import type { CpuTask } from '@modelfleet/jobs';

export interface EncodeTaskInput {
  oldBundle: ArrayBuffer;
  newBundle: ArrayBuffer;
  options: EncodeOptions;
}

/** Runs in a cpu thread: the delta that turns the old bundle into the new one. */
export const encodeDeltaTask: CpuTask<EncodeTaskInput, Uint8Array> = async (input) => {
  const { bytes } = await encodeDelta(new Uint8Array(input.oldBundle), new Uint8Array(input.newBundle), input.options);
  return bytes;
};
