import { RinggateError, RinggateResponseError, problemOf } from "./errors.js";
import type { Transport } from "./transport.js";
import { FINAL_EVENTS, type RinggateEvent, type StreamEvent } from "./types.js";

export interface StreamOptions {
  /** Resume after the event with this id. */
  lastEventId?: string;
  /** Reconnects in a row before giving up (default 10); an event resets the count. */
  maxReconnects?: number;
  signal?: AbortSignal;
}

/**
 * Follows a verification's Server-Sent Events over fetch (so it works with
 * an API key header in Node, and with a client token in browsers), and
 * reconnects with Last-Event-ID after a broken connection, until the
 * verification's final event or a 204. Errors are thrown, never swallowed.
 */
export async function* streamEvents(
  t: Transport,
  id: string,
  token: string | undefined,
  o: StreamOptions = {},
): AsyncGenerator<StreamEvent, void, undefined> {
  if (!id) throw new TypeError("ringgate: empty verification id");
  let lastId = o.lastEventId;
  let retryMs = 2000;
  let failures = 0;
  let lastErr: unknown;
  const maxReconnects = o.maxReconnects ?? 10;
  for (let first = true; ; first = false) {
    if (!first) {
      if (failures > maxReconnects) {
        throw new Error(`ringgate: event stream: gave up after ${maxReconnects} reconnects`, { cause: lastErr });
      }
      await t.sleep(retryMs, o.signal);
    }
    const headers = t.headers(token, { accept: "text/event-stream" });
    // Last-Event-ID is not a CORS-safelisted header: with a client token (a
    // page) it goes in the query, which ringgate reads the same way.
    const query: Record<string, string> = {};
    if (lastId !== undefined) {
      if (token === undefined) headers.set("last-event-id", lastId);
      else query["last_event_id"] = lastId;
    }
    let resp: Response;
    try {
      resp = await t.fetch(t.url(`/v1/verifications/${encodeURIComponent(id)}/events`, query, token), {
        headers,
        signal: o.signal ?? null,
      });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      failures++;
      lastErr = err;
      continue;
    }
    if (resp.status === 204) return;
    if (resp.status !== 200) {
      const e: RinggateError = await problemOf(resp);
      if (resp.status === 429 || resp.status >= 500) {
        failures++;
        lastErr = e;
        if (e.retryAfterMs !== undefined && e.retryAfterMs > retryMs && e.retryAfterMs <= t.maxRetryWaitMs) retryMs = e.retryAfterMs;
        continue;
      }
      throw e;
    }
    if (!resp.body) throw new RinggateResponseError(200, "ringgate: event stream without a body");
    try {
      for await (const f of sseFrames(resp.body)) {
        if (f.retry !== undefined) retryMs = Math.min(f.retry, 30_000);
        if (f.data !== undefined && f.id !== undefined && f.id !== "" && f.id === lastId) continue; // resent after Last-Event-ID: no progress
        if (f.id !== undefined) lastId = f.id;
        if (f.data === undefined) continue;
        let ev: RinggateEvent;
        try {
          ev = JSON.parse(f.data) as RinggateEvent;
        } catch (err) {
          throw new RinggateResponseError(200, `ringgate: event stream: undecodable event ${f.id ?? ""}`, { cause: err });
        }
        failures = 0;
        yield { id: f.id ?? "", ...ev };
        if (FINAL_EVENTS.includes(ev.type)) return;
      }
      // The server ends a stream only after a final event: a close before
      // that is a broken connection.
      failures++;
      lastErr = new Error("ringgate: event stream closed early");
    } catch (err) {
      if (err instanceof RinggateResponseError || o.signal?.aborted) throw err;
      failures++;
      lastErr = err;
    }
  }
}

interface Frame {
  id?: string;
  data?: string;
  retry?: number;
}

/** Splits a text/event-stream body into frames (the WHATWG SSE rules we need). */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  let frame: Frame = {};
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        if (buf[nl] === "\r" && nl === buf.length - 1) break; // a \r\n split across reads
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (data.length > 0) frame.data = data.join("\n");
          if (frame.data !== undefined || frame.retry !== undefined) yield frame;
          frame = {};
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? "" : line.slice(i + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "id") frame.id = value;
        else if (field === "retry" && /^\d+$/.test(value)) frame.retry = Number(value);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
