// verifyWebhook against the official Standard Webhooks libraries: the Go
// library's vectors (sdk/testdata, held to it by internal/webhook's
// TestSDKWebhookVectors) and the npm `standardwebhooks` package, live.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { parseWebhook, verifyWebhook, WebhookVerificationError } from "../dist/index.js";

const vectors = JSON.parse(readFileSync(new URL("../../testdata/webhook-vectors.json", import.meta.url), "utf8")).vectors;
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const headersOf = (id, ts, sig) => ({ "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig });

test("agrees with the official Go library's vectors", async () => {
  assert.ok(vectors.length >= 8);
  let valid = 0;
  for (const v of vectors) {
    const res = await verifyWebhook(v.secret, headersOf(v.id, v.timestamp, v.signature), v.body, { now: v.timestamp * 1000 }).then(
      () => true,
      (e) => {
        assert.ok(e instanceof WebhookVerificationError, `${v.name}: ${e}`);
        assert.equal(e.kind, "no_matching_signature", v.name);
        return false;
      },
    );
    assert.equal(res, v.valid, v.name);
    if (res) valid++;
  }
  assert.ok(valid >= 3);
});

test("agrees with the npm standardwebhooks package", async () => {
  const wh = new Webhook(secret);
  const now = new Date();
  const ts = Math.floor(now.getTime() / 1000);
  const bodies = ['{"type":"verification.verified","timestamp":"2026-01-02T03:04:05Z","data":{"id":"vf_1"}}', "", "ünïcödé ✓ 👍", "x".repeat(70_000)];
  for (const body of bodies) {
    const sig = wh.sign("msg_js", now, body);
    await verifyWebhook(secret, headersOf("msg_js", ts, sig), body);
    // …and as bytes, as a server hands them over.
    await verifyWebhook(secret, new Headers(headersOf("msg_js", ts, sig)), new TextEncoder().encode(body));
    // The official verify agrees, and both refuse a changed body.
    wh.verify(body, headersOf("msg_js", String(ts), sig), { jsonParse: false });
    assert.throws(() => wh.verify(body + " ", headersOf("msg_js", String(ts), sig), { jsonParse: false }));
    await assert.rejects(verifyWebhook(secret, headersOf("msg_js", ts, sig), body + " "), { kind: "no_matching_signature" });
  }
  // The npm package signs the Go vectors' valid single-signature messages
  // to the very same header: the two official libraries and ours agree.
  let same = 0;
  for (const v of vectors.filter((v) => v.valid && !v.signature.includes(" "))) {
    assert.equal(new Webhook(v.secret).sign(v.id, new Date(v.timestamp * 1000), v.body), v.signature, v.name);
    same++;
  }
  assert.ok(same >= 3);
});

test("refusals are typed", async () => {
  const wh = new Webhook(secret);
  const now = Date.now();
  const ts = Math.floor(now / 1000);
  const body = "{}";
  const cases = [
    ["missing_headers", secret, { "webhook-id": "m", "webhook-timestamp": String(ts) }],
    ["invalid_timestamp", secret, headersOf("m", "soon", wh.sign("m", new Date(now), body))],
    ["too_old", secret, headersOf("m", ts - 360, wh.sign("m", new Date(now - 360_000), body))],
    ["too_new", secret, headersOf("m", ts + 360, wh.sign("m", new Date(now + 360_000), body))],
    ["invalid_secret", "whsec_%%%", headersOf("m", ts, wh.sign("m", new Date(now), body))],
    ["no_matching_signature", secret, headersOf("m", ts, "v1,AAAA v2,BBBB nonsense")],
  ];
  for (const [kind, sec, h] of cases) {
    await assert.rejects(verifyWebhook(sec, h, body), (e) => e instanceof WebhookVerificationError && e.kind === kind, kind);
  }
  // Signed but not an event: parseWebhook refuses it, typed.
  for (const bad of ["not json", "[]", '{"type":"verification.verified"}', '{"type":1,"timestamp":"x","data":{"id":"vf"}}']) {
    await assert.rejects(parseWebhook(secret, headersOf("m", ts, wh.sign("m", new Date(now), bad)), bad), { kind: "malformed_body" }, bad);
  }
  const ev = await parseWebhook(
    secret,
    headersOf("m", ts, wh.sign("m", new Date(now), vectors[0].body)),
    vectors[0].body,
  );
  assert.equal(ev.type, "verification.verified");
  assert.equal(ev.data.call.matched, true);
});
