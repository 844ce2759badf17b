/** A `hold` that ends only when the job's signal aborts (then rejects, as a processor should). */
export function holdUntilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A `hold` that ends when `release()` is called. */
export function createGate(): { hold: () => Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { hold: () => opened, release: () => release() };
}
