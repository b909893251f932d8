import { RinggateError, RinggateResponseError, problemOf } from "./errors.js";

export interface TransportOptions {
  /** The server's URL (default http://127.0.0.1:8080, where `ringgate dev` listens). */
  baseUrl?: string;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** How many times a retryable request is repeated (default 3; 0: never). */
  maxRetries?: number;
  /** First backoff, doubling to maxBackoffMs, with jitter (default 200 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The longest Retry-After honoured (default 30 s); longer ones are thrown at once. */
  maxRetryWaitMs?: number;
  /** How a wait is made (tests inject one). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Req {
  method: string;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** A client token (?token=) instead of the API key. */
  token?: string;
  /** May be repeated after a 5xx or a network error. */
  safe?: boolean;
  expect?: number[];
  signal?: AbortSignal;
}

export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export class Transport {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly maxRetries: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetryWaitMs: number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    private readonly apiKey: string | undefined,
    o: TransportOptions = {},
  ) {
    this.baseUrl = (o.baseUrl ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
    this.maxRetries = o.maxRetries ?? 3;
    this.minBackoffMs = o.minBackoffMs ?? 200;
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
    this.maxRetryWaitMs = o.maxRetryWaitMs ?? 30_000;
    this.sleep = o.sleep ?? defaultSleep;
  }

  url(path: string, query?: Record<string, string | number | undefined>, token?: string): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
    }
    if (token !== undefined) u.searchParams.set("token", token);
    return u.toString();
  }

  headers(token: string | undefined, extra?: Record<string, string>): Headers {
    const h = new Headers(extra);
    if (token === undefined && this.apiKey) h.set("authorization", `Bearer ${this.apiKey}`);
    return h;
  }

  backoff(attempt: number): number {
    const d = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** attempt);
    return d / 2 + Math.random() * (d / 2);
  }

  async request<T>(r: Req): Promise<T> {
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    const url = this.url(r.path, r.query, r.token);
    const expect = r.expect ?? [200];
    for (let attempt = 0; ; attempt++) {
      const headers = this.headers(r.token, r.headers);
      headers.set("accept", "application/json");
      // With a client token (a page, cross-origin) the request must stay a
      // CORS "simple" one, which ringgate answers without a preflight: no
      // Content-Type (ringgate reads the body as JSON all the same).
      if (body !== undefined && r.token === undefined) headers.set("content-type", "application/json");
      let resp: Response;
      try {
        // A string body would get "text/plain" from fetch; bytes get no type.
        const payload = body === undefined ? undefined : r.token === undefined ? body : new TextEncoder().encode(body);
        resp = await this.fetch(url, { method: r.method, headers, body: payload ?? null, signal: r.signal ?? null });
      } catch (err) {
        if (r.safe && attempt < this.maxRetries && !r.signal?.aborted) {
          await this.sleep(this.backoff(attempt), r.signal);
          continue;
        }
        throw err;
      }
      if (expect.includes(resp.status)) {
        if (resp.status === 204) return undefined as T;
        const text = await resp.text();
        try {
          return JSON.parse(text) as T;
        } catch (err) {
          throw new RinggateResponseError(resp.status, `ringgate: undecodable ${resp.status} response to ${r.method} ${r.path}`, { cause: err });
        }
      }
      const e: RinggateError = await problemOf(resp);
      const retryable = resp.status === 429 || (resp.status >= 500 && r.safe === true);
      if (!retryable || attempt >= this.maxRetries) throw e;
      const wait = e.retryAfterMs ?? this.backoff(attempt);
      if (wait > this.maxRetryWaitMs) throw e;
      await this.sleep(wait, r.signal);
    }
  }
}
