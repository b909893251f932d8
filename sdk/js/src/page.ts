import { streamEvents, type StreamOptions } from "./events.js";
import { Transport, type TransportOptions } from "./transport.js";
import type { CheckRequest, PublicCheckResult, PublicStatus, StreamEvent } from "./types.js";

/**
 * The client-token view of one verification: what a browser page (or the
 * app on the phone) may do with the `client_token` its backend handed it.
 * Safe in browsers: it never holds an API key.
 */
export class PageClient {
  private readonly t: Transport;

  constructor(
    readonly verificationId: string,
    private readonly token: string,
    options: TransportOptions = {},
  ) {
    if (!verificationId) throw new TypeError("ringgate: empty verification id");
    if (!token) throw new TypeError("ringgate: empty client token");
    this.t = new Transport(undefined, options);
  }

  private path(suffix: string): string {
    return `/v1/verifications/${encodeURIComponent(this.verificationId)}/${suffix}`;
  }

  /** GET …/status: the page-safe status (phone masked). */
  status(signal?: AbortSignal): Promise<PublicStatus> {
    return this.t.request({ method: "GET", path: this.path("status"), token: this.token, safe: true, ...(signal ? { signal } : {}) });
  }

  /** POST …/check with the code the user typed (or a flash call's caller ID). Counts an attempt; never retried after a 5xx. */
  check(req: CheckRequest, signal?: AbortSignal): Promise<PublicCheckResult> {
    return this.t.request({ method: "POST", path: this.path("check"), body: req, token: this.token, ...(signal ? { signal } : {}) });
  }

  /** POST …/next: move the workflow on to its next channel now. */
  next(signal?: AbortSignal): Promise<PublicStatus> {
    return this.t.request({ method: "POST", path: this.path("next"), token: this.token, ...(signal ? { signal } : {}) });
  }

  /** The live events, until the final one: `for await (const ev of page.events())`. */
  events(options?: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
    return streamEvents(this.t, this.verificationId, this.token, options);
  }
}
