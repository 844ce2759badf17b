/** What a cpu task function receives besides its input. */
export interface CpuTaskContext {
  /** Reports progress (0..100) to the caller's `onProgress`; cheap, but do not call it per byte. */
  progress(percent: number): void;
}

/**
 * The shape of a function a cpu thread can run: exported by name from a module, taking one
 * structured-cloneable input and returning (or resolving to) a structured-cloneable result.
 */
export type CpuTask<Input, Output> = (input: Input, context: CpuTaskContext) => Output | Promise<Output>;
