#!/usr/bin/env node
// Launcher: the agent is TypeScript run as source, like every package here, so load tsx's ESM hooks into this
// process and import src/main.ts (one process: SIGTERM and exit codes need no relaying).
import { URL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/main.ts', import.meta.url).href);
