/**
 * Who gets which release changed (a rollout moved, a pin was set): the poll caches of this process forget the
 * channel at once. Device reports move rollouts from `recordReport`, which knows only the database, so the
 * signal is process-wide; other processes see the change when their short cache TTL ends.
 */
export type TargetsChangedListener = (channelId?: string) => void;

const listeners = new Set<TargetsChangedListener>();

export function onTargetsChanged(listener: TargetsChangedListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function targetsChanged(channelId?: string): void {
  for (const listener of listeners) listener(channelId);
}
