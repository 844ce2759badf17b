/* global AbortController, fetch, TextDecoderStream, setTimeout -- browser globals: this file runs in the dashboard page */
import { storedKey } from './api.js';

/**
 * Listens to GET /v1/events with the operator's key. EventSource cannot send an Authorization header,
 * so the stream is read with fetch() and a reader, and parsed here (the text/event-stream format:
 * blocks separated by a blank line, `event:` and `data:` fields, `:` comments). Reconnects with backoff.
 */
export function listenForChanges({ onReady, onChange, onStatus }) {
  let stopped = false;
  let controller;
  let retryMs = 1000;

  const dispatch = (block) => {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    const payload = JSON.parse(data.join('\n'));
    if (event === 'ready') {
      retryMs = 1000;
      onStatus('live');
      onReady(payload.topics);
    } else if (event === 'change') {
      onChange(payload.topics);
    }
  };

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        onStatus('connecting');
        const response = await fetch('/v1/events', {
          headers: { authorization: `Bearer ${storedKey() ?? ''}`, accept: 'text/event-stream' },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401 || response.status === 403) {
          onStatus('unauthorized');
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, 15000);
    }
  };
  void run();

  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
