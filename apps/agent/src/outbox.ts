/**
 * Reports go through an on-disk outbox: written (fsynced) before the first send, deleted once the server
 * answered 2xx, so a report survives a server outage and an agent restart. Each carries an idempotency key:
 * a report resent after a lost answer is counted once by the server.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DeviceReportBody } from '@modelfleet/contracts';
import { replaceFileAtomically } from './durable.js';
import type { AgentLogger } from './log.js';

export type ReportDraft = Omit<DeviceReportBody, 'idempotencyKey' | 'occurredAt'>;
export type SendReport = (report: DeviceReportBody) => Promise<'accepted' | 'retry' | 'drop'>;

export interface Outbox {
  add(draft: ReportDraft): Promise<DeviceReportBody>;
  /** Sends queued reports oldest first; stops at the first that must be retried. Returns how many are left. */
  flush(send: SendReport): Promise<number>;
  pending(): Promise<DeviceReportBody[]>;
}

export function createOutbox(folder: string, log: AgentLogger, now: () => Date = () => new Date()): Outbox {
  let sequence = 0;
  const files = async () =>
    (await fs.readdir(folder).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).sort();
  return {
    async add(draft) {
      await fs.mkdir(folder, { recursive: true });
      const at = now();
      const report: DeviceReportBody = { ...draft, idempotencyKey: randomUUID(), occurredAt: at.toISOString() };
      // Names sort in creation order: time, then a per-process sequence for reports in the same millisecond.
      const name = `${String(at.getTime()).padStart(15, '0')}-${String(sequence++).padStart(6, '0')}-${report.idempotencyKey}.json`;
      await replaceFileAtomically(path.join(folder, name), JSON.stringify(report));
      return report;
    },
    async flush(send) {
      const names = await files();
      for (const [index, name] of names.entries()) {
        const file = path.join(folder, name);
        let report: DeviceReportBody;
        try {
          report = JSON.parse(await fs.readFile(file, 'utf8')) as DeviceReportBody;
        } catch (error) {
          log.warn({ file, err: error }, 'unreadable report dropped from the outbox');
          await fs.rm(file, { force: true });
          continue;
        }
        const outcome = await send(report);
        if (outcome === 'retry') return names.length - index;
        if (outcome === 'drop')
          log.warn({ state: report.state, idempotencyKey: report.idempotencyKey }, 'server refused a report; dropped');
        await fs.rm(file, { force: true });
      }
      return 0;
    },
    async pending() {
      const reports: DeviceReportBody[] = [];
      for (const name of await files())
        reports.push(JSON.parse(await fs.readFile(path.join(folder, name), 'utf8')) as DeviceReportBody);
      return reports;
    },
  };
}
