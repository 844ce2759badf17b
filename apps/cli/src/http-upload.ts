import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isModelFleetError } from '@modelfleet/errors';

export interface StreamedResponse {
  status: number;
  text: string;
}

/**
 * POSTs a streamed body with node:http(s) rather than fetch. Node 20's fetch (undici 6.24) keeps every
 * chunk of a streamed request body alive until the request ends (nodejs/undici#4058, open): measured
 * here, a 1 GiB upload through fetch peaked at 1131 MiB RSS with `arrayBuffers` growing linearly and
 * surviving GC. A pipeline into http.request holds only the socket's buffers.
 *
 * The server may answer before it has read the whole body (a 401, a 413); that answer is what the caller
 * gets, not the EPIPE of the writes that follow it. An error thrown by the body itself (a file that
 * changed size) is passed through as it is; anything else before an answer is a network failure.
 */
export function postStreamed(
  url: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
      method: 'POST',
      headers,
      ...(signal ? { signal } : {}),
    });
    let answered = false;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      outcome();
    };

    request.on('response', (response: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        settle(() => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })),
      );
      response.on('error', (error) => settle(() => reject(error)));
    });
    request.on('error', (error) => {
      if (!answered) settle(() => reject(error));
    });

    pipeline(Readable.from(body, { objectMode: false }), request).catch((error: unknown) => {
      if (isModelFleetError(error)) {
        request.destroy();
        settle(() => reject(error));
        return;
      }
      // Write failures after the server answered are expected (it stopped reading); before, the request's
      // own 'error' event reports the cause.
      if (!answered) settle(() => reject(error));
    });
  });
}
