import type { DependencyName } from '@modelfleet/contracts';

/** Something /readyz asks whether it can be reached. */
export interface ReadinessProbe {
  name: DependencyName;
  /** Which implementation is behind it, for operators: pglite, postgres, in-process, bullmq, fs. */
  driver: string;
  ping(): Promise<void>;
}

/** What the HTTP app needs from the process that hosts it; created by `createServices` and handed in. */
export interface AppServices {
  probes: readonly ReadinessProbe[];
}
