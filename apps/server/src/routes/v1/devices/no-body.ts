import { Type } from 'typebox';

/**
 * A 204/304 answer: no body at all. Sent as `send(undefined)`; a `null` payload would be serialised to
 * `null` and announced as `Content-Length: 4` on a 304 — which some HTTP clients (autocannon, found by
 * bench:poll) then wait for forever.
 */
export const NoBody = (description: string) => Type.Unsafe<undefined>({ type: 'null', description });
