import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { FileChanged } from './errors.js';

/** A text field of a multipart/form-data body. */
export interface MultipartField {
  kind: 'field';
  name: string;
  value: string;
}

/** A file part: read from disk while the body streams (never whole in memory), or given as bytes. */
export interface MultipartFile {
  kind: 'file';
  name: string;
  filename: string;
  contentType: string;
  source: { path: string; size: number } | { bytes: Uint8Array };
}

export type MultipartPart = MultipartField | MultipartFile;

/** Progress of a streaming body: bytes handed to the connection so far, of the exact total. */
export type ProgressListener = (sentBytes: number, totalBytes: number) => void;

export interface MultipartBody {
  boundary: string;
  /** The value of the Content-Type header, boundary included. */
  contentType: string;
  /** Exact length in bytes, so the request carries Content-Length and the server can refuse early. */
  length: number;
  /** A fresh stream of the body each call; it checks every file still has the size it was measured at. */
  stream(onProgress?: ProgressListener): AsyncGenerator<Uint8Array>;
}

const CRLF = '\r\n';

/**
 * Quotes a value for a Content-Disposition parameter the way browsers encode form data
 * (WHATWG HTML "multipart/form-data encoding algorithm": `"` -> %22, CR -> %0D, LF -> %0A), which
 * busboy, and so @fastify/multipart, reads back unchanged for ordinary names.
 */
function quote(value: string): string {
  return `"${value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

function partHeader(boundary: string, part: MultipartPart): Buffer {
  const lines = [`--${boundary}`];
  if (part.kind === 'field') {
    lines.push(`Content-Disposition: form-data; name=${quote(part.name)}`);
  } else {
    lines.push(`Content-Disposition: form-data; name=${quote(part.name)}; filename=${quote(part.filename)}`);
    lines.push(`Content-Type: ${part.contentType}`);
  }
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'utf8');
}

function payloadLength(part: MultipartPart): number {
  if (part.kind === 'field') return Buffer.byteLength(part.value, 'utf8');
  return 'bytes' in part.source ? part.source.bytes.byteLength : part.source.size;
}

/**
 * Builds a multipart/form-data body whose length is known before the first byte is sent. Parts keep
 * their order: the server reads fields such as `role` before the file that follows them.
 */
export function buildMultipartBody(
  parts: readonly MultipartPart[],
  options: { boundary?: string } = {},
): MultipartBody {
  const boundary = options.boundary ?? `----modelfleet-${randomBytes(12).toString('hex')}`;
  const headers = parts.map((part) => partHeader(boundary, part));
  const closing = Buffer.from(`--${boundary}--${CRLF}`, 'utf8');
  const crlf = Buffer.from(CRLF, 'utf8');
  const length =
    parts.reduce((sum, part, index) => sum + (headers[index]?.length ?? 0) + payloadLength(part) + crlf.length, 0) +
    closing.length;

  async function* stream(onProgress?: ProgressListener): AsyncGenerator<Uint8Array> {
    let sent = 0;
    const emit = (chunk: Uint8Array): Uint8Array => {
      sent += chunk.byteLength;
      onProgress?.(sent, length);
      return chunk;
    };
    for (const [index, part] of parts.entries()) {
      yield emit(headers[index] ?? Buffer.alloc(0));
      if (part.kind === 'field') {
        yield emit(Buffer.from(part.value, 'utf8'));
      } else if ('bytes' in part.source) {
        yield emit(part.source.bytes);
      } else {
        const { path, size } = part.source;
        let read = 0;
        for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
          read += chunk.length;
          // A file that grew or shrank would break Content-Length and corrupt the stream; say so instead.
          if (read > size) throw new FileChanged(path, String(size));
          yield emit(chunk);
        }
        if (read !== size) throw new FileChanged(path, String(size));
      }
      yield emit(crlf);
    }
    yield emit(closing);
  }

  return { boundary, contentType: `multipart/form-data; boundary=${boundary}`, length, stream };
}

/** A file part for a file on disk, measured now (its size goes into Content-Length). */
export async function filePart(
  name: string,
  path: string,
  options: { filename?: string; contentType?: string } = {},
): Promise<MultipartFile> {
  const info = await stat(path);
  return {
    kind: 'file',
    name,
    filename: options.filename ?? basename(path),
    contentType: options.contentType ?? 'application/octet-stream',
    source: { path, size: info.size },
  };
}
