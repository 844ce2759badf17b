import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One blob request as it crossed the proxy. */
export interface ProxiedBlob {
  sha256: string;
  /** The device token that asked (Authorization: Bearer …). */
  token: string;
  range: string | null;
  status: number;
  /** Body bytes the server sent (before any corruption). */
  bytes: number;
}

export interface BlobProxy {
  url: string;
  transfers: ProxiedBlob[];
  /** Blob bodies this says yes to get one byte flipped on the way (corruption in transit). */
  corrupt: ((blob: { sha256: string; token: string }) => boolean) | null;
  close(): Promise<void>;
}

/**
 * A loopback proxy between agents and the server that records every blob transfer (which device, which
 * blob, how many bytes: the server's own counters are in-process) and can corrupt blob bodies in transit
 * for chosen devices.
 */
export async function startBlobProxy(target: () => string): Promise<BlobProxy> {
  const transfers: ProxiedBlob[] = [];
  const proxy: BlobProxy = {
    url: '',
    transfers,
    corrupt: null,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = new URL(incoming.url ?? '/', target());
    const token = String(incoming.headers.authorization ?? '').replace(/^Bearer /, '');
    const forward = httpRequest(
      upstream,
      { method: incoming.method, headers: { ...incoming.headers, host: upstream.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        const blob = /^\/v1\/blobs\/([0-9a-f]{64})$/.exec(upstream.pathname);
        if (blob === null) {
          answer.pipe(outgoing);
          return;
        }
        const transfer: ProxiedBlob = {
          sha256: blob[1]!,
          token,
          range: (incoming.headers.range as string | undefined) ?? null,
          status: answer.statusCode ?? 0,
          bytes: 0,
        };
        transfers.push(transfer);
        let flipped = proxy.corrupt?.({ sha256: transfer.sha256, token }) !== true;
        answer.on('data', (chunk: Buffer) => {
          transfer.bytes += chunk.length;
          if (!flipped && chunk.length > 0) {
            const bad = Buffer.from(chunk);
            bad[bad.length >> 1]! ^= 0xff;
            flipped = true;
            outgoing.write(bad);
          } else outgoing.write(chunk);
        });
        answer.on('end', () => outgoing.end());
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
