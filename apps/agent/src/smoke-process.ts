/**
 * The smoke test in a child process: the daemon itself never loads TF.js, so between polls it holds only its
 * own small heap (measured: see README), and a model that aborts the wasm runtime or exhausts memory takes
 * down the child, not the agent. The child is the agent's own entry with the hidden `__smoke` command.
 */
import { spawn } from 'node:child_process';
import type { Preprocessing } from '@modelfleet/contracts';
import { InstallFailed, SmokeTestFailed } from './errors.js';
import { smokeTestFolder, type SmokeResult } from './smoke.js';

export const SMOKE_COMMAND = '__smoke';

export interface SmokeRequest {
  folder: string;
  preprocessing: Preprocessing;
}

export type SmokeAnswer = { ok: true; result: SmokeResult } | { ok: false; smokeFailed: boolean; message: string };

/** The child's side: read the request from stdin, answer one JSON line on stdout. */
export async function answerSmokeRequest(input: string): Promise<SmokeAnswer> {
  const request = JSON.parse(input) as SmokeRequest;
  try {
    return { ok: true, result: await smokeTestFolder(request.folder, request.preprocessing) };
  } catch (error) {
    return { ok: false, smokeFailed: SmokeTestFailed.is(error), message: (error as Error).message };
  }
}

/** `entry`: the script that runs the agent (process.argv[1] of the daemon: the launcher or the packed file). */
export function smokeTestInChildProcess(entry: string, timeoutMs = 300_000) {
  return (folder: string, preprocessing: Preprocessing): Promise<SmokeResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [entry, SMOKE_COMMAND], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new InstallFailed(`smoke test process did not start: ${error.message}`, { cause: error }));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        let answer: SmokeAnswer | undefined;
        try {
          answer = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SmokeAnswer;
        } catch {
          answer = undefined;
        }
        if (answer?.ok === true) return resolve(answer.result);
        if (answer !== undefined && answer.ok === false)
          return reject(
            answer.smokeFailed
              ? new SmokeTestFailed(answer.message)
              : new InstallFailed(`smoke test could not run: ${answer.message}`),
          );
        // No answer: the model crashed or hung the runtime (abort, out of memory, timeout).
        reject(
          new SmokeTestFailed(
            `smoke test process ended with ${signal ?? `exit ${code}`} and no answer${stderr.trim() === '' ? '' : `: ${stderr.trim().slice(-300)}`}`,
          ),
        );
      });
      child.stdin.end(JSON.stringify({ folder, preprocessing } satisfies SmokeRequest));
    });
}
