// Standard Webhooks verification (https://www.standardwebhooks.com/) on Web
// Crypto, so it runs in Node 20+, Deno, Bun, workers and browsers alike,
// without a dependency. Its verdicts are tested against the official
// `standardwebhooks` package and the official Go library's vectors.

import type { EventType, RinggateEvent } from "./types.js";

export type WebhookErrorKind =
  | "invalid_secret"
  | "missing_headers"
  | "invalid_timestamp"
  | "too_old"
  | "too_new"
  | "no_matching_signature"
  | "malformed_body";

/** A refused webhook; `kind` says why. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly kind: WebhookErrorKind,
    message: string,
  ) {
    super(`webhook: ${message}`);
  }
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far webhook-timestamp may be from now (default 300 s). */
  toleranceSeconds?: number;
  /** The current time in ms (default Date.now()). */
  now?: number;
}

function header(h: HeaderSource, name: string): string | undefined {
  if (typeof (h as Headers).get === "function") return (h as Headers).get(name) ?? undefined;
  const rec = h as Record<string, string | string[] | undefined>;
  for (const k of Object.keys(rec)) {
    if (k.toLowerCase() === name) {
      const v = rec[k];
      return Array.isArray(v) ? v.join(" ") : v;
    }
  }
  return undefined;
}

function b64decode(s: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function b64encode(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/** Equal strings in time that depends only on their lengths. */
function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

/**
 * Verifies a webhook's Standard Webhooks signature with the app's `whsec_`
 * secret. Pass the raw body (the exact bytes received: with Express,
 * `express.raw({ type: "application/json" })`). Resolves when the webhook
 * is genuine; rejects with a WebhookVerificationError otherwise.
 */
export async function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyOptions = {},
): Promise<void> {
  const key = b64decode(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!key || key.length === 0) throw new WebhookVerificationError("invalid_secret", "the secret is not whsec_ and base64");
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const sigs = header(headers, "webhook-signature");
  if (!id || !ts || !sigs) throw new WebhookVerificationError("missing_headers", "missing webhook-id, webhook-timestamp or webhook-signature");
  if (!/^-?\d+$/.test(ts)) throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a unix time in seconds");
  const sec = Number(ts);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tol = options.toleranceSeconds ?? 300;
  if (now - sec > tol) throw new WebhookVerificationError("too_old", "webhook-timestamp is too old");
  if (sec - now > tol) throw new WebhookVerificationError("too_new", "webhook-timestamp is in the future");
  const prefix = new TextEncoder().encode(`${id}.${ts}.`);
  const payload = bytesOf(body);
  const signed = new Uint8Array(prefix.length + payload.length);
  signed.set(prefix, 0);
  signed.set(payload, prefix.length);
  const k = await globalThis.crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const want = b64encode(new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", k, signed)));
  for (const s of sigs.split(" ")) {
    const comma = s.indexOf(",");
    if (comma < 0 || s.slice(0, comma) !== "v1") continue;
    if (timingSafeEqual(s.slice(comma + 1), want)) return;
  }
  throw new WebhookVerificationError("no_matching_signature", "no signature matches");
}

/** Verifies a webhook and decodes its event; rejects a malformed one with a WebhookVerificationError ("malformed_body"). */
export async function parseWebhook(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyOptions = {},
): Promise<RinggateEvent> {
  await verifyWebhook(secret, headers, body, options);
  let ev: unknown;
  try {
    ev = JSON.parse(typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(bytesOf(body)));
  } catch (err) {
    throw new WebhookVerificationError("malformed_body", `the body is not JSON: ${String(err)}`);
  }
  if (!isEvent(ev)) throw new WebhookVerificationError("malformed_body", "the body is not a ringgate event (type, timestamp, data.id)");
  return ev;
}

function isEvent(v: unknown): v is RinggateEvent {
  if (typeof v !== "object" || v === null) return false;
  const o = v as { type?: unknown; timestamp?: unknown; data?: unknown };
  return (
    typeof o.type === "string" &&
    typeof o.timestamp === "string" &&
    typeof o.data === "object" &&
    o.data !== null &&
    typeof (o.data as { id?: unknown }).id === "string"
  );
}

/** Narrows an event to one type: `if (isEventOf(ev, "verification.verified")) …`. */
export function isEventOf<T extends EventType>(ev: RinggateEvent, type: T): ev is RinggateEvent<T> {
  return ev.type === type;
}
