import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { type ConvGeometry, type ConvPad, convGeometry } from './conv-geometry.js';
import { inScope } from './kernel-scope.js';
import { readFloat32, writeFloat32 } from './typed-data.js';

type Shape4 = [number, number, number, number];

/**
 * The im2col matrix [N·Ho·Wo, kh·kw·Cin]: row (n, ho, wo) holds, tap after tap, the input
 * pixels that tap multiplied (zeros where it read padding). Built with loops — a gather of a few
 * hundred thousand floats — because the wasm backend's StridedSlice, the kernel-only way to take
 * strided windows, measured ~20x slower for it.
 */
function im2col(xs: Float32Array, g: ConvGeometry): Float32Array {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = g;
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
  } = g;
  const rowLength = kh * kw * C;
  const columns = new Float32Array(batch * Ho * Wo * rowLength);
  for (let n = 0; n < batch; n++) {
    for (let ho = 0; ho < Ho; ho++) {
      for (let wo = 0; wo < Wo; wo++) {
        const rowBase = ((n * Ho + ho) * Wo + wo) * rowLength;
        for (let i = 0; i < kh; i++) {
          const row = ho * sh + i * dh - g.padTop;
          if (row < 0 || row >= H) continue;
          for (let j = 0; j < kw; j++) {
            const col = wo * sw + j * dw - g.padLeft;
            if (col < 0 || col >= W) continue;
            const from = ((n * H + row) * W + col) * C;
            columns.set(xs.subarray(from, from + C), rowBase + (i * kw + j) * C);
          }
        }
      }
    }
  }
  return columns;
}

/**
 * dL/dW of a 2-D convolution as one matrix product: im2col(x)ᵀ · dy, [kh·kw·Cin, N·Ho·Wo] ×
 * [N·Ho·Wo, Cout], on the backend's own MatMul (XNNPACK on wasm). The column order (tap row, tap
 * column, input channel) is the filter's layout [kh, kw, Cin, Cout], so the product reshapes
 * straight into the gradient. A 1x1 stride-1 convolution (most of MobileNet's work) is x itself.
 */
export function createConv2dBackpropFilter(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: ConvPad;
      dataFormat?: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: Shape4;
    };
    if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: only NHWC is implemented');
    const g = convGeometry(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false);
    const kernelBackend = backend as KernelBackend;
    const rows = g.batch * g.outHeight * g.outWidth;
    const rowLength = g.filterHeight * g.filterWidth * g.inChannels;
    const pointwise =
      g.filterHeight === 1 &&
      g.filterWidth === 1 &&
      g.strideHeight === 1 &&
      g.strideWidth === 1 &&
      g.padTop === 0 &&
      g.padLeft === 0;
    return inScope(kernelBackend, backendName, (scope) => {
      const columns = pointwise
        ? scope.reshape(x, [1, rows, rowLength])
        : scope.adopt(writeFloat32(kernelBackend, [1, rows, rowLength], im2col(readFloat32(kernelBackend, x), g)));
      const b = scope.reshape(dy, [1, rows, filterShape[3]]);
      const product = scope.run('BatchMatMul', { a: columns, b }, { transposeA: true, transposeB: false });
      return scope.reshape(product, [...filterShape]);
    });
  };
}
