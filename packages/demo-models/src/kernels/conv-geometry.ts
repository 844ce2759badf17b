import { backend_util } from '@tensorflow/tfjs';

/** The numbers a convolution's gradient needs, from tfjs's own shape arithmetic (same padding rules as the forward op). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/** A convolution's `pad` attribute as the forward op received it. */
export type ConvPad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

export function convGeometry(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Padding that makes every filter tap's strided window fit inside the input:
 * tap (i, j) reads rows i*dilation + k*stride - padTop for k < outHeight.
 */
export function windowPaddings(g: ConvGeometry): Array<[number, number]> {
  const needRows = (g.filterHeight - 1) * g.dilationHeight + (g.outHeight - 1) * g.strideHeight + 1;
  const needCols = (g.filterWidth - 1) * g.dilationWidth + (g.outWidth - 1) * g.strideWidth + 1;
  return [
    [0, 0],
    [g.padTop, Math.max(0, needRows - g.padTop - g.inHeight)],
    [g.padLeft, Math.max(0, needCols - g.padLeft - g.inWidth)],
    [0, 0],
  ];
}
