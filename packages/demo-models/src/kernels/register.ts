import { getKernel, registerKernel } from '@tensorflow/tfjs';
import { createConv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { createDepthwiseBackpropFilter } from './depthwise-backprop-filter.js';
import { createDepthwiseBackpropInput } from './depthwise-backprop-input.js';

/**
 * The gradient kernels that tfjs-backend-wasm 4.22 lacks and a MobileNet needs to train
 * (checked against dist/kernels of the package: there is a Conv2DBackpropInput but no
 * Conv2DBackpropFilter and no depthwise backprop kernels).
 */
export const TRAINING_KERNEL_NAMES = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
] as const;

/**
 * Registers our gradient kernels for `backendName` where the backend has none (idempotent; a
 * backend that gains its own kernels keeps them). Returns the names registered by this call.
 */
export function registerTrainingKernels(backendName = 'wasm'): string[] {
  const factories = {
    Conv2DBackpropFilter: createConv2dBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: () => createDepthwiseBackpropInput(),
    DepthwiseConv2dNativeBackpropFilter: () => createDepthwiseBackpropFilter(),
  };
  const registered: string[] = [];
  for (const kernelName of TRAINING_KERNEL_NAMES) {
    if (getKernel(kernelName, backendName) !== undefined) continue;
    registerKernel({ kernelName, backendName, kernelFunc: factories[kernelName](backendName) });
    registered.push(kernelName);
  }
  return registered;
}
