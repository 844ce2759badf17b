import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { getKernel } from '@tensorflow/tfjs';

/**
 * Runs a backend's own kernels (its fast MatMul, Slice, Pad…) on TensorInfos, inside another
 * kernel, and frees the intermediates afterwards. Composing at the kernel level keeps the work
 * out of the engine's bookkeeping (no tensors, no gradient tape) — exactly what a kernel body
 * must do — while every bulk operation still runs in the backend's compiled code.
 */
export class KernelScope {
  private readonly made: TensorInfo[] = [];

  constructor(
    private readonly backend: KernelBackend,
    private readonly backendName: string,
  ) {}

  run(
    kernelName: string,
    inputs: Record<string, TensorInfo> | TensorInfo[],
    attrs: Record<string, unknown> = {},
  ): TensorInfo {
    const kernel = getKernel(kernelName, this.backendName);
    if (kernel === undefined) throw new Error(`kernel ${kernelName} is not registered for ${this.backendName}`);
    const out = kernel.kernelFunc({
      inputs: inputs as unknown as NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as NamedAttrMap,
    });
    const info = Array.isArray(out) ? out[0] : out;
    if (info === undefined) throw new Error(`kernel ${kernelName} returned no output`);
    this.made.push(info);
    return info;
  }

  /** Takes ownership of a tensor made outside `run` (freed with the other intermediates). */
  adopt(info: TensorInfo): TensorInfo {
    this.made.push(info);
    return info;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Rows `begin[d] + k*strides[d]` for k < size[d] along every axis (a strided window). */
  stridedWindow(x: TensorInfo, begin: number[], size: number[], strides: number[]): TensorInfo {
    const end = begin.map((b, d) => b + (size[d]! - 1) * strides[d]! + 1);
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([before, after]) => before === 0 && after === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** Frees every intermediate except `result` (which the calling kernel returns). */
  finish(result: TensorInfo): TensorInfo {
    for (const info of this.made) if (info !== result) this.backend.disposeData(info.dataId);
    this.made.length = 0;
    return result;
  }

  /** Frees everything (after a failure). */
  abandon(): void {
    for (const info of this.made) this.backend.disposeData(info.dataId);
    this.made.length = 0;
  }
}

/** Runs `body` in a scope; intermediates are freed whether it returns or throws. */
export function inScope(
  backend: KernelBackend,
  backendName: string,
  body: (scope: KernelScope) => TensorInfo,
): TensorInfo {
  const scope = new KernelScope(backend, backendName);
  try {
    return scope.finish(body(scope));
  } catch (error) {
    scope.abandon();
    throw error;
  }
}
