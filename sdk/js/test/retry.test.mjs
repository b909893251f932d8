// Retries and error decoding, against a scripted fetch (no server, no real sleeps).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, RinggateError, RinggateResponseError } from "../dist/index.js";

const problem = (status, code, retryAfter) => () =>
  new Response(JSON.stringify({ type: "about:blank", title: "t", status, code }), {
    status,
    headers: { "content-type": "application/problem+json", ...(retryAfter ? { "retry-after": retryAfter } : {}) },
  });
const json = (status, body) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function scripted(...answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return answers[Math.min(calls.length - 1, answers.length - 1)]();
  };
  const waits = [];
  return { calls, waits, opts: { baseUrl: "http://rg.test", fetch, sleep: async (ms) => void waits.push(ms) } };
}

test("a start is retried after 503 and 429 with one Idempotency-Key, honouring Retry-After", async () => {
  const s = scripted(problem(503, "unavailable"), problem(429, "rate_limited", "2"), json(201, { id: "vf_1", client_token: "ct" }));
  const v = await new Client("rg_live_k", s.opts).start({ phone: "+442079460018", channel: "missed_call" });
  assert.equal(v.id, "vf_1");
  const keys = s.calls.map((c) => c.init.headers.get("idempotency-key"));
  assert.equal(keys.length, 3);
  assert.ok(keys[0] && keys.every((k) => k === keys[0]), `keys ${keys}`);
  assert.equal(s.waits[1], 2000);
  assert.equal(s.calls[0].init.headers.get("authorization"), "Bearer rg_live_k");
});

test("a Retry-After beyond the bound is thrown at once, typed", async () => {
  const s = scripted(problem(429, "rate_limited", "3600"));
  await assert.rejects(new Client("k", s.opts).get("vf_1"), (e) => e instanceof RinggateError && e.code === "rate_limited" && e.retryAfterMs === 3_600_000);
  assert.equal(s.calls.length, 1);
});

test("a check is not repeated after a 5xx; reads stop after maxRetries", async () => {
  const s = scripted(problem(502, "internal"));
  await assert.rejects(new Client("k", s.opts).check("vf_1", { code: "123456" }), { status: 502 });
  assert.equal(s.calls.length, 1);
  const r = scripted(problem(500, "internal"));
  await assert.rejects(new Client("k", { ...r.opts, maxRetries: 2 }).get("vf_1"), { status: 500 });
  assert.equal(r.calls.length, 3);
});

test("non-problem errors and undecodable bodies are errors too", async () => {
  const s = scripted(() => new Response("<h1>nginx</h1>", { status: 404, headers: { "content-type": "text/html" } }));
  await assert.rejects(new Client("k", s.opts).get("vf_1"), (e) => e instanceof RinggateError && e.status === 404 && e.code === undefined && e.message.includes("nginx"));
  const t = scripted(() => new Response('{"id":', { status: 200, headers: { "content-type": "application/json" } }));
  await assert.rejects(new Client("k", t.opts).get("vf_1"), RinggateResponseError);
  await assert.rejects(async () => new Client("k", t.opts).get(""), TypeError);
});

test("the event stream reconnects with Last-Event-ID after a broken connection", async () => {
  const enc = new TextEncoder();
  const ev = (id, type) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, timestamp: "2026-01-02T03:04:05Z", data: { id: "vf_1" } })}\n\n`;
  const seen = [];
  let n = 0;
  const fetch = async (url, init) => {
    seen.push(init.headers.get("last-event-id"));
    n++;
    if (n === 1) {
      // One event, then the connection drops mid-stream.
      const body = new ReadableStream({ start(c) { c.enqueue(enc.encode("retry: 10\n\n" + ev(7, "verification.created") + "id: 8\nda")); c.close(); } });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    }
    if (n === 2) return problem(503, "unavailable")();
    const body = new ReadableStream({ start(c) { c.enqueue(enc.encode(": hb\n\n" + ev(9, "call.received") + ev(10, "verification.verified"))); c.close(); } });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  };
  const waits = [];
  const c = new Client("k", { baseUrl: "http://rg.test", fetch, sleep: async (ms) => void waits.push(ms) });
  const got = [];
  for await (const e of c.events("vf_1")) got.push(`${e.id} ${e.type}`);
  assert.deepEqual(got, ["7 verification.created", "9 call.received", "10 verification.verified"]);
  assert.deepEqual(seen, [null, "7", "7"]);
  assert.deepEqual(waits, [10, 10]);
});

test("a server resending the event resumed after makes no progress: the stream gives up", async () => {
  const enc = new TextEncoder();
  const frame = `id: 5\ndata: ${JSON.stringify({ type: "call.received", timestamp: "2026-01-02T03:04:05Z", data: { id: "vf_1" } })}\n\n`;
  const fetch = async () => new Response(new ReadableStream({ start(c) { c.enqueue(enc.encode(frame)); c.close(); } }), { status: 200 });
  const c = new Client("k", { baseUrl: "http://rg.test", fetch, sleep: async () => {} });
  const got = [];
  await assert.rejects(async () => {
    for await (const e of c.events("vf_1", { maxReconnects: 2 })) got.push(e.id);
  }, /gave up/);
  assert.deepEqual(got, ["5"]);
});
