// Entry point of a cpu thread: plain JavaScript, so Node can start it before any TypeScript
// loader exists. It registers tsx's ESM hooks for this thread, then loads the TypeScript thread.
//
// Why not `execArgv: ['--import', 'tsx']`: tsx 4.23's loader registers its hooks only when
// `worker_threads.isMainThread` is true or, where Node has it, `isInternalThread` is false
// (tsx/dist/esm/index.mjs). Node 20.20 has no `isInternalThread`, so in a worker thread the flag
// is a silent no-op and importing a .ts file fails with ERR_UNKNOWN_FILE_EXTENSION (seen here,
// both under tsx and under vitest). tsx's own API registers unconditionally.
import { register } from 'tsx/esm/api';

register();
await import('./cpu-thread.ts');
