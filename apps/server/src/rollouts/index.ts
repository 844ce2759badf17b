/** Rollouts (issue 7): the pure state machine, its store, and the service the routes and reports use. */
export * from './machine.js';
export * from './errors.js';
export { onTargetsChanged, targetsChanged, type TargetsChangedListener } from './changes.js';
export { transition, loadTarget, type TransitionResult } from './store.js';
export { recordRolloutProgress, sweepRollouts } from './progress.js';
export { createRolloutService, ROLLOUT_DEFAULTS, type RolloutService, type RolloutServiceOptions } from './service.js';
