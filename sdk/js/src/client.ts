import { streamEvents, type StreamOptions } from "./events.js";
import { PageClient } from "./page.js";
import { Transport, type TransportOptions } from "./transport.js";
import type {
  ApiKey,
  App,
  AuditEntry,
  CheckRequest,
  CheckResult,
  CompatCredentials,
  Delivery,
  Erasure,
  ListAuditParams,
  ListDeliveriesParams,
  ListVerificationsParams,
  NewApiKey,
  NewApiKeyRequest,
  NewCompatCredentials,
  Page,
  PrefixBlock,
  SettingsPatch,
  StartRequest,
  StreamEvent,
  Verification,
  WebhookSecret,
} from "./types.js";

export interface ClientOptions extends TransportOptions {
  /** Makes the Idempotency-Key of each start (default: crypto.randomUUID()). */
  idempotencyKey?: () => string;
}

export interface StartOptions {
  /** Your own key, to make a start safe to repeat across processes. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const enc = encodeURIComponent;

/**
 * The server-side client: holds the app's API key, so use it in your
 * backend only (browsers get a PageClient with the client token).
 *
 * Errors the API answers are thrown as RinggateError (switch on `code`).
 * 429s, and 5xx answers to requests that are safe to repeat (reads,
 * deletes, cancels, and starts, which carry an Idempotency-Key), are
 * retried with backoff, honouring Retry-After up to maxRetryWaitMs.
 */
export class Client {
  private readonly t: Transport;
  private readonly newKey: () => string;
  private readonly options: ClientOptions;

  constructor(apiKey: string, options: ClientOptions = {}) {
    if (!apiKey) throw new TypeError("ringgate: an API key is required (browsers: use PageClient)");
    this.t = new Transport(apiKey, options);
    this.options = options;
    this.newKey = options.idempotencyKey ?? (() => globalThis.crypto.randomUUID());
  }

  /** POST /v1/verifications. Retries carry the same Idempotency-Key, so at most one verification starts. */
  start(req: StartRequest, o: StartOptions = {}): Promise<Verification> {
    return this.t.request({
      method: "POST",
      path: "/v1/verifications",
      body: req,
      headers: { "idempotency-key": o.idempotencyKey ?? this.newKey() },
      safe: true,
      expect: [201, 200],
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  get(id: string): Promise<Verification> {
    return this.t.request({ method: "GET", path: `/v1/verifications/${enc(need(id))}`, safe: true });
  }

  listPage(p: ListVerificationsParams = {}): Promise<Page<Verification>> {
    return this.t.request({ method: "GET", path: "/v1/verifications", query: { ...p }, safe: true });
  }

  /** Every verification matching p, newest first, page after page: `for await (const v of client.list())`. */
  list(p: ListVerificationsParams = {}): AsyncGenerator<Verification, void, undefined> {
    return paginate((cursor) => this.listPage({ ...p, ...(cursor ? { cursor } : {}) }), p.cursor);
  }

  /** POST …/check. Each check counts, so it is not retried after a 5xx. */
  check(id: string, req: CheckRequest): Promise<CheckResult> {
    return this.t.request({ method: "POST", path: `/v1/verifications/${enc(need(id))}/check`, body: req });
  }

  next(id: string): Promise<Verification> {
    return this.t.request({ method: "POST", path: `/v1/verifications/${enc(need(id))}/next` });
  }

  cancel(id: string): Promise<Verification> {
    return this.t.request({ method: "POST", path: `/v1/verifications/${enc(need(id))}/cancel`, safe: true });
  }

  /** The live events with the API key, until the final one. */
  events(id: string, options?: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    return streamEvents(this.t, id, undefined, options);
  }

  /** The client-token view of a verification, as a page would have it. */
  page(id: string, clientToken: string): PageClient {
    return new PageClient(id, clientToken, this.options);
  }

  app(): Promise<App> {
    return this.t.request({ method: "GET", path: "/v1/app", safe: true });
  }

  updateApp(patch: SettingsPatch): Promise<App> {
    return this.t.request({ method: "PATCH", path: "/v1/app", body: patch, safe: true });
  }

  /** A new webhook secret; the old one keeps signing for overlapSeconds. Not retried. */
  rotateWebhookSecret(overlapSeconds = 0): Promise<WebhookSecret> {
    return this.t.request({ method: "POST", path: "/v1/app/webhook-secret", body: { overlap_seconds: overlapSeconds } });
  }

  /** The public halves of the compat APIs' credentials (a live admin key). */
  compatCredentials(): Promise<CompatCredentials> {
    return this.t.request({ method: "GET", path: "/v1/app/compat-credentials", safe: true });
  }

  /** Creates or replaces all the compat credentials; the secrets are shown only here. Not retried. */
  rotateCompatCredentials(): Promise<NewCompatCredentials> {
    return this.t.request({ method: "POST", path: "/v1/app/compat-credentials", expect: [201] });
  }

  /** Installs the PEM RSA public key Vonage-style application JWTs are checked with. */
  async setVonagePublicKey(pem: string): Promise<void> {
    await this.t.request({ method: "PUT", path: "/v1/app/compat-credentials/vonage-public-key", body: { public_key: pem }, safe: true, expect: [204] });
  }

  /** Where Vonage-style status callbacks go; "" stops them. */
  async setVonageStatusURL(url: string): Promise<void> {
    await this.t.request({ method: "PUT", path: "/v1/app/compat-credentials/vonage-status-url", body: { url }, safe: true, expect: [204] });
  }

  erasePhone(phone: string): Promise<Erasure> {
    return this.t.request({ method: "DELETE", path: `/v1/phones/${enc(need(phone))}`, safe: true });
  }

  async keys(): Promise<ApiKey[]> {
    return (await this.t.request<Page<ApiKey>>({ method: "GET", path: "/v1/keys", safe: true })).data;
  }

  createKey(req: NewApiKeyRequest): Promise<NewApiKey> {
    return this.t.request({ method: "POST", path: "/v1/keys", body: req, expect: [201] });
  }

  revokeKey(id: string): Promise<ApiKey> {
    return this.t.request({ method: "DELETE", path: `/v1/keys/${enc(need(id))}`, safe: true });
  }

  deliveriesPage(p: ListDeliveriesParams = {}): Promise<Page<Delivery>> {
    return this.t.request({ method: "GET", path: "/v1/webhooks/deliveries", query: { ...p }, safe: true });
  }

  deliveries(p: ListDeliveriesParams = {}): AsyncGenerator<Delivery, void, undefined> {
    return paginate((cursor) => this.deliveriesPage({ ...p, ...(cursor ? { cursor } : {}) }), p.cursor);
  }

  retryDelivery(id: string): Promise<Delivery> {
    return this.t.request({ method: "POST", path: `/v1/webhooks/deliveries/${enc(need(id))}/retry`, safe: true, expect: [202] });
  }

  auditPage(p: ListAuditParams = {}): Promise<Page<AuditEntry>> {
    return this.t.request({ method: "GET", path: "/v1/audit", query: { ...p }, safe: true });
  }

  audit(p: ListAuditParams = {}): AsyncGenerator<AuditEntry, void, undefined> {
    return paginate((cursor) => this.auditPage({ ...p, ...(cursor ? { cursor } : {}) }), p.cursor);
  }

  async blockedPrefixes(): Promise<PrefixBlock[]> {
    return (await this.t.request<Page<PrefixBlock>>({ method: "GET", path: "/v1/fraud/blocked-prefixes", safe: true })).data;
  }

  async unblockPrefix(prefix: string): Promise<void> {
    await this.t.request({ method: "POST", path: `/v1/fraud/blocked-prefixes/${enc(need(prefix))}/unblock`, safe: true, expect: [204] });
  }
}

function need(id: string): string {
  if (!id) throw new TypeError("ringgate: empty id");
  return id;
}

async function* paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>, cursor?: string): AsyncGenerator<T, void, undefined> {
  for (;;) {
    const p = await page(cursor);
    yield* p.data;
    if (!p.next_cursor) return;
    if (p.next_cursor === cursor) throw new Error("ringgate: the server returned the same cursor twice");
    cursor = p.next_cursor;
  }
}
