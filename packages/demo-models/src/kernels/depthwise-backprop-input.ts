import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { type ConvPad, convGeometry } from './conv-geometry.js';
import { readFloat32, writeFloat32 } from './typed-data.js';

type Shape4 = [number, number, number, number];

/**
 * dL/dx of a depthwise convolution, the adjoint of the forward gather: tap (i, j) read
 * x[n, ho·s + i·d - padTop, wo·s + j·d - padLeft, c] into dy[n, ho, wo, c·M + m] with weight
 * W[i, j, c, m], so dx at that position receives Σ_m dy[…, c·M + m] · W[i, j, c, m]. Positions
 * in the padding are skipped. Plain loops for the reason given in depthwise-backprop-filter.ts.
 */
export function createDepthwiseBackpropInput(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dilations, dimRoundingMode, inputShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: ConvPad;
      dilations?: number | [number, number];
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      inputShape: Shape4;
    };
    const filterShape = filter.shape as Shape4;
    const g = convGeometry(inputShape, filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
    const kernelBackend = backend as KernelBackend;
    const dys = readFloat32(kernelBackend, dy);
    const ws = readFloat32(kernelBackend, filter);
    const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = g;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
    const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = g;
    const M = filterShape[3];
    const CM = C * M;
    const dx = new Float32Array(batch * H * W * C);
    for (let n = 0; n < batch; n++) {
      for (let ho = 0; ho < Ho; ho++) {
        for (let wo = 0; wo < Wo; wo++) {
          const dyBase = ((n * Ho + ho) * Wo + wo) * CM;
          for (let i = 0; i < kh; i++) {
            const row = ho * sh + i * dh - padTop;
            if (row < 0 || row >= H) continue;
            for (let j = 0; j < kw; j++) {
              const col = wo * sw + j * dw - padLeft;
              if (col < 0 || col >= W) continue;
              const xBase = ((n * H + row) * W + col) * C;
              const wBase = (i * kw + j) * CM;
              if (M === 1) {
                for (let c = 0; c < C; c++) dx[xBase + c]! += dys[dyBase + c]! * ws[wBase + c]!;
              } else {
                for (let c = 0; c < C; c++) {
                  let sum = 0;
                  for (let m = 0; m < M; m++) sum += dys[dyBase + c * M + m]! * ws[wBase + c * M + m]!;
                  dx[xBase + c]! += sum;
                }
              }
            }
          }
        }
      }
    }
    return writeFloat32(kernelBackend, [...inputShape], dx);
  };
}
