import { isModelFleetError } from '@modelfleet/errors';
import type {
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  CreateModelLineBody,
  CreateRolloutBody,
  Dataset,
  DatasetList,
  DatasetRole,
  DeviceList,
  DevicePin,
  ErrorResponse,
  ModelLine,
  ModelLineList,
  ModelVersion,
  PublicKeys,
  PublishBody,
  Release,
  ReleaseList,
  RolloutAction,
  RolloutList,
  RolloutListQuery,
  RolloutView,
  VersionAccepted,
  WhoAmI,
} from '@modelfleet/contracts';
import { CliApiError, ResponseUnexpected, ServerUnreachable } from './errors.js';
import { postStreamed } from './http-upload.js';
import { buildMultipartBody, type MultipartFile, type MultipartPart, type ProgressListener } from './multipart.js';

export interface ApiClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:3000 (a path prefix is kept). */
  server: string;
  /** A person's API key (`mfk_…`); routes that need one answer MF_ERR_CREDENTIAL_MISSING without it. */
  key?: string | undefined;
  /** Injected for tests and other runtimes; defaults to the global fetch. Uploads use node:http (http-upload.ts). */
  fetch?: typeof globalThis.fetch;
}

export interface UploadOptions {
  /** Called as body bytes are handed to the connection. */
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface DatasetUpload {
  role: DatasetRole;
  name?: string | undefined;
  /** The archive of class folders (.zip / .tar.gz) or `.mfds` file; sent as the part `file`. */
  file: MultipartFile;
}

export type CandidateTableFormat = 'markdown' | 'csv';

export interface VersionList {
  items: ModelVersion[];
}

/** One function per REST route of the server (see packages/contracts for the wire shapes). */
export interface ApiClient {
  readonly server: string;
  whoami(): Promise<WhoAmI>;
  createApiKey(body: CreateApiKeyBody): Promise<CreatedApiKey>;
  listApiKeys(): Promise<ApiKeyList>;
  createModelLine(body: CreateModelLineBody): Promise<ModelLine>;
  listModelLines(): Promise<ModelLineList>;
  getModelLine(line: string): Promise<ModelLine>;
  addDataset(line: string, upload: DatasetUpload, options?: UploadOptions): Promise<Dataset>;
  listDatasets(line: string): Promise<DatasetList>;
  deleteDataset(line: string, id: string): Promise<void>;
  /** Parts are either `model.json` plus every shard (field name = file name) or a single `archive`. */
  uploadVersion(line: string, parts: readonly MultipartPart[], options?: UploadOptions): Promise<VersionAccepted>;
  getVersion(line: string, version: string): Promise<ModelVersion>;
  getCandidateTable(line: string, version: string, format: CandidateTableFormat): Promise<string>;
  listVersions(line: string): Promise<VersionList>;
  publish(line: string, body: PublishBody): Promise<Release>;
  listReleases(line: string, options?: { channel?: string | undefined }): Promise<ReleaseList>;
  publicKeys(): Promise<PublicKeys>;
  createRollout(body: CreateRolloutBody): Promise<RolloutView>;
  listRollouts(query?: RolloutListQuery): Promise<RolloutList>;
  getRollout(id: string): Promise<RolloutView>;
  rolloutAction(id: string, action: RolloutAction, reason?: string): Promise<RolloutView>;
  listDevices(query?: {
    line?: string | undefined;
    channel?: string | undefined;
    tag?: string | undefined;
  }): Promise<DeviceList>;
  pinDevice(deviceId: string, release: number): Promise<DevicePin>;
  unpinDevice(deviceId: string): Promise<DevicePin>;
}

type Expect = 'json' | 'text' | 'none';

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  multipart?: { parts: readonly MultipartPart[]; options: UploadOptions | undefined };
  expect: Expect;
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

/** What went wrong on the way to the server, in a person's words (the cause's errno code where there is one). */
function describeNetworkFailure(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * An error answer we can show by its code. The server's handler gives every error an `MF_ERR_…` code; a
 * proxy or a framework error that slipped past it may carry another code, still better shown than hidden.
 */
function isErrorResponse(value: unknown): value is ErrorResponse {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as { code: string }).code.length > 0 &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const server = options.server.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;

  async function send<T>(spec: RequestSpec): Promise<T> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(spec.query ?? {})) if (value !== undefined) search.set(name, value);
    const query = search.size > 0 ? `?${search.toString()}` : '';
    const url = `${server}${spec.path}${query}`;
    const headers: Record<string, string> = {
      accept: spec.expect === 'text' ? 'text/plain, text/markdown, text/csv' : 'application/json',
    };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;

    let status: number;
    let text: string;
    try {
      if (spec.multipart !== undefined) {
        const body = buildMultipartBody(spec.multipart.parts);
        headers['content-type'] = body.contentType;
        headers['content-length'] = String(body.length);
        // Streamed from disk with backpressure; see http-upload.ts for why this is not fetch.
        const response = await postStreamed(
          url,
          headers,
          body.stream(spec.multipart.options?.onProgress),
          spec.multipart.options?.signal,
        );
        ({ status, text } = response);
      } else {
        const init: RequestInit = { method: spec.method, headers };
        if (spec.json !== undefined) {
          headers['content-type'] = 'application/json';
          init.body = JSON.stringify(spec.json);
        }
        const response = await fetchImpl(url, init);
        status = response.status;
        text = await response.text();
      }
    } catch (error) {
      // A failure of our own body stream (a file that changed under us) keeps its code.
      const cause = error instanceof Error ? error.cause : undefined;
      if (isModelFleetError(error)) throw error;
      if (isModelFleetError(cause)) throw cause;
      let reason = describeNetworkFailure(error);
      const code = (error as { code?: unknown }).code;
      if (spec.multipart !== undefined && (code === 'EPIPE' || code === 'ECONNRESET')) {
        // A server that refuses a body early may reset the connection before its answer can be read.
        reason += ' (the server closed the connection during the upload: an upload over its size limit ends this way)';
      }
      throw new ServerUnreachable(server, `${spec.method} ${spec.path}`, reason, { cause: error });
    }

    if (status < 200 || status > 299) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (isErrorResponse(parsed))
        throw new CliApiError(spec.method, url, {
          ...parsed,
          statusCode: typeof parsed.statusCode === 'number' ? parsed.statusCode : status,
        });
      throw new ResponseUnexpected(
        spec.method,
        url,
        String(status),
        text.length > 0 ? JSON.stringify(text.slice(0, 200)) : 'an empty body',
      );
    }
    if (spec.expect === 'none') return undefined as T;
    if (spec.expect === 'text') return text as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ResponseUnexpected(
        spec.method,
        url,
        String(status),
        `a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }
  }

  const lineBase = (line: string): string => `/v1/models/${segment(line)}`;

  return {
    server,
    whoami: () => send({ method: 'GET', path: '/v1/whoami', expect: 'json' }),
    createApiKey: (body) => send({ method: 'POST', path: '/v1/api-keys', json: body, expect: 'json' }),
    listApiKeys: () => send({ method: 'GET', path: '/v1/api-keys', expect: 'json' }),
    createModelLine: (body) => send({ method: 'POST', path: '/v1/models', json: body, expect: 'json' }),
    listModelLines: () => send({ method: 'GET', path: '/v1/models', expect: 'json' }),
    getModelLine: (line) => send({ method: 'GET', path: lineBase(line), expect: 'json' }),
    addDataset: (line, upload, uploadOptions) => {
      const parts: MultipartPart[] = [{ kind: 'field', name: 'role', value: upload.role }];
      if (upload.name !== undefined) parts.push({ kind: 'field', name: 'name', value: upload.name });
      parts.push({ ...upload.file, name: 'file' });
      return send({
        method: 'POST',
        path: `${lineBase(line)}/datasets`,
        multipart: { parts, options: uploadOptions },
        expect: 'json',
      });
    },
    listDatasets: (line) => send({ method: 'GET', path: `${lineBase(line)}/datasets`, expect: 'json' }),
    deleteDataset: (line, id) =>
      send({ method: 'DELETE', path: `${lineBase(line)}/datasets/${segment(id)}`, expect: 'none' }),
    uploadVersion: (line, parts, uploadOptions) =>
      send({
        method: 'POST',
        path: `${lineBase(line)}/versions`,
        multipart: { parts, options: uploadOptions },
        expect: 'json',
      }),
    getVersion: (line, version) =>
      send({ method: 'GET', path: `${lineBase(line)}/versions/${segment(version)}`, expect: 'json' }),
    getCandidateTable: (line, version, format) =>
      send({
        method: 'GET',
        path: `${lineBase(line)}/versions/${segment(version)}`,
        query: { format },
        expect: 'text',
      }),
    listVersions: (line) => send({ method: 'GET', path: `${lineBase(line)}/versions`, expect: 'json' }),
    publish: (line, body) => send({ method: 'POST', path: `${lineBase(line)}/releases`, json: body, expect: 'json' }),
    listReleases: (line, listOptions) =>
      send({
        method: 'GET',
        path: `${lineBase(line)}/releases`,
        query: { channel: listOptions?.channel },
        expect: 'json',
      }),
    publicKeys: () => send({ method: 'GET', path: '/v1/keys', expect: 'json' }),
    createRollout: (body) => send({ method: 'POST', path: '/v1/rollouts', json: body, expect: 'json' }),
    listRollouts: (query = {}) =>
      send({
        method: 'GET',
        path: '/v1/rollouts',
        query: { line: query.line, channel: query.channel, state: query.state },
        expect: 'json',
      }),
    getRollout: (id) => send({ method: 'GET', path: `/v1/rollouts/${segment(id)}`, expect: 'json' }),
    rolloutAction: (id, action, reason) =>
      send({
        method: 'POST',
        path: `/v1/rollouts/${segment(id)}/${action}`,
        json: reason === undefined ? {} : { reason },
        expect: 'json',
      }),
    listDevices: (query = {}) =>
      send({
        method: 'GET',
        path: '/v1/devices',
        query: { line: query.line, channel: query.channel, tag: query.tag },
        expect: 'json',
      }),
    pinDevice: (deviceId, release) =>
      send({ method: 'PUT', path: `/v1/devices/${segment(deviceId)}/pin`, json: { release }, expect: 'json' }),
    unpinDevice: (deviceId) => send({ method: 'DELETE', path: `/v1/devices/${segment(deviceId)}/pin`, expect: 'json' }),
  };
}
