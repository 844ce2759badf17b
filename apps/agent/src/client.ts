/**
 * The device API as the agent calls it (packages/contracts/src/devices.ts is the wire contract). Network
 * failures and 5xx become MF_ERR_SERVER_UNAVAILABLE (retried with backoff); other 4xx MF_ERR_SERVER_REJECTED.
 */
import type { DeviceReportBody, EnrollBody, Enrolled } from '@modelfleet/contracts';
import { retryAfterSeconds } from './backoff.js';
import { ServerRejected, ServerUnavailable } from './errors.js';

export type PollResult =
  { kind: 'not-modified' } | { kind: 'no-release' } | { kind: 'offer'; answer: unknown; etag: string | null };

export interface DeviceClient {
  enroll(enrollmentToken: string, body: EnrollBody): Promise<Enrolled>;
  poll(current: string | null, etag: string | null): Promise<PollResult>;
  report(body: DeviceReportBody): Promise<'accepted' | 'retry' | 'drop'>;
  blobUrl(path: string): string;
}

export interface ClientOptions {
  serverUrl: string;
  deviceToken: () => string;
  timeoutMs: number;
  fetch?: typeof fetch;
  userAgent?: string;
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { code?: string; message?: string };
    return `${response.status} ${parsed.code ?? ''} ${parsed.message ?? ''}`.trim();
  } catch {
    return `${response.status} ${text.slice(0, 200)}`.trim();
  }
}

export function createDeviceClient(options: ClientOptions): DeviceClient {
  const doFetch = options.fetch ?? fetch;
  const headers = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    'user-agent': options.userAgent ?? 'modelfleet-agent',
    ...extra,
  });
  const call = async (path: string, init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(`${options.serverUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new ServerUnavailable(`${init.method ?? 'GET'} ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
      throw new ServerUnavailable(`${init.method ?? 'GET'} ${path}: ${await errorText(response)}`, {
        details: { status: response.status, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }) },
      });
    }
    return response;
  };

  return {
    blobUrl: (path) => new URL(path, `${options.serverUrl}/`).href,

    async enroll(enrollmentToken, body) {
      const response = await call('/v1/device/enroll', {
        method: 'POST',
        headers: headers(enrollmentToken, { 'content-type': 'application/json' }),
        body: JSON.stringify(body),
      });
      if (response.status !== 200 && response.status !== 201)
        throw new ServerRejected(`enrolment: ${await errorText(response)}`, { details: { status: response.status } });
      return (await response.json()) as Enrolled;
    },

    async poll(current, etag) {
      const query = current === null ? '' : `?current=${current}`;
      const response = await call(`/v1/device/update${query}`, {
        method: 'GET',
        headers: headers(options.deviceToken(), etag === null ? {} : { 'if-none-match': etag }),
      });
      if (response.status === 304) return { kind: 'not-modified' };
      if (response.status === 204) return { kind: 'no-release' };
      if (response.status !== 200)
        throw new ServerRejected(`poll: ${await errorText(response)}`, { details: { status: response.status } });
      let answer: unknown;
      try {
        answer = await response.json();
      } catch (error) {
        throw new ServerUnavailable(`poll: answer is not JSON: ${(error as Error).message}`, { cause: error });
      }
      return { kind: 'offer', answer, etag: response.headers.get('etag') };
    },

    async report(body) {
      let response: Response;
      try {
        response = await call('/v1/device/reports', {
          method: 'POST',
          headers: headers(options.deviceToken(), { 'content-type': 'application/json' }),
          body: JSON.stringify(body),
        });
      } catch (error) {
        if (ServerUnavailable.is(error)) return 'retry';
        throw error;
      }
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return 'accepted';
      // 401/403: the token may be revoked or the server mid-migration; keep the report for later. 400/404/422:
      // this report can never be accepted; dropping it keeps later reports flowing.
      if (response.status === 401 || response.status === 403) return 'retry';
      return 'drop';
    },
  };
}
