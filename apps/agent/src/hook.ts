/**
 * The on-install hook: a shell command the sorting application's owner configures (e.g.
 * `systemctl reload sorter`), run after a successful swap with the new model's paths in its environment.
 * Its failure is reported with the `installed` report, never undoes the install.
 */
import { spawn } from 'node:child_process';

export interface HookResult {
  ok: boolean;
  detail: string;
}

export function runInstallHook(command: string, env: Record<string, string>, timeoutMs = 60_000): Promise<HookResult> {
  return new Promise((resolve) => {
    const child = spawn(command, { shell: true, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-500)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: error.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true, detail: '' });
      else resolve({ ok: false, detail: `exit ${code ?? signal}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}` });
    });
  });
}
