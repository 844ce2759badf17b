/** Half away from zero, as TFLite's quantizer rounds (TfLiteRound / std::round); Math.round rounds -2.5 to -2. */
export function roundHalfAwayFromZero(value: number): number {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}
