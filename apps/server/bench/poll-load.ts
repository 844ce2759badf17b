/**
 * The load generator of bench:poll, run in its own process so it does not share an event loop with the
 * server: autocannon against GET <url>, each request with the next device token of the list (round-robin
 * across all connections), then one JSON line of results on stdout.
 *
 *   tsx bench/poll-load.ts <url> <tokens file, one a line> <seconds> <connections>
 */
import fs from 'node:fs/promises';
import autocannon from 'autocannon';

const [url, tokensFile, seconds = '10', connections = '32'] = process.argv.slice(2);
if (url === undefined || tokensFile === undefined)
  throw new Error('usage: poll-load.ts <url> <tokens file> [seconds] [connections]');
const tokens = (await fs.readFile(tokensFile, 'utf8')).split('\n').filter(Boolean);
const authorizations = tokens.map((token) => `Bearer ${token}`);
let next = 0;

const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'GET',
      setupRequest: (request) => {
        const authorization = authorizations[next]!;
        next = (next + 1) % authorizations.length;
        return { ...request, headers: { ...request.headers, authorization } };
      },
    },
  ],
});

const statuses = Object.fromEntries(
  Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
);
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    perSecond: result.requests.total / result.duration,
    medianMs: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
  })}\n`,
);
