import type { Problem, ProblemCode } from "./types.js";

/**
 * An error response of the API: an RFC 9457 problem, or (code undefined) a
 * non-2xx answer that was not problem JSON, e.g. from a proxy. Switch on
 * `code`, which is stable.
 */
export class RinggateError extends Error {
  override readonly name = "RinggateError";
  readonly status: number;
  readonly code: ProblemCode | undefined;
  readonly problem: Problem | undefined;
  /** The Retry-After header, in milliseconds, if the answer had one. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, problem: Problem | undefined, message: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.problem = problem;
    this.code = problem?.code;
    this.retryAfterMs = retryAfterMs;
  }

  get field(): string | undefined {
    return this.problem?.field;
  }
}

/** A response that could not be read or decoded (never a silent undefined). */
export class RinggateResponseError extends Error {
  override readonly name = "RinggateResponseError";
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

export async function problemOf(resp: Response): Promise<RinggateError> {
  const text = await resp.text().catch(() => "");
  const retryAfterMs = parseRetryAfter(resp.headers.get("retry-after"), Date.now());
  const ct = (resp.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (ct === "application/problem+json" || ct === "application/json") {
    try {
      const p = JSON.parse(text) as Problem;
      if (p && typeof p === "object" && typeof p.code === "string") {
        const msg = `ringgate: ${resp.status} ${p.code}: ${p.title}${p.detail ? ": " + p.detail : ""}${p.field ? ` (field ${p.field})` : ""}`;
        return new RinggateError(resp.status, p, msg, retryAfterMs);
      }
    } catch {
      // not JSON after all: reported below with the text
    }
  }
  const snippet = text.slice(0, 200).trim();
  return new RinggateError(resp.status, undefined, `ringgate: ${resp.status} ${resp.statusText}${snippet ? ": " + snippet : ""}`, retryAfterMs);
}

/** Retry-After: seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | null, now: number): number | undefined {
  if (v === null || v.trim() === "") return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}
