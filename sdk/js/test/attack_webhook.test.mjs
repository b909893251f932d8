// The attack on an integrator's webhook endpoint, over real HTTP: unsigned,
// attacker-signed, tampered and replayed (ten minutes old) webhooks must
// never reach the app's code; the genuine one must.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { parseWebhook, WebhookVerificationError } from "../dist/index.js";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

test("attack: forged webhooks never reach the handler", async () => {
  const seen = [];
  const srv = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    try {
      const ev = await parseWebhook(secret, req.headers, Buffer.concat(chunks));
      seen.push(ev.data.id);
      res.writeHead(204).end();
    } catch (e) {
      res.writeHead(e instanceof WebhookVerificationError ? 400 : 500).end();
    }
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${srv.address().port}/hooks`;
  const event = (id) => JSON.stringify({ type: "verification.verified", timestamp: "2026-01-02T03:04:05Z", data: { id, status: "verified" } });
  const post = async (body, id, when, sig) => {
    const headers = { "content-type": "application/json" };
    if (id) Object.assign(headers, { "webhook-id": id, "webhook-timestamp": String(Math.floor(when.getTime() / 1000)), "webhook-signature": sig });
    return (await fetch(url, { method: "POST", body, headers })).status;
  };
  try {
    const now = new Date();
    const old = new Date(now.getTime() - 600_000);
    const attacker = new Webhook("whsec_YXR0YWNrZXIncyBvd24ga2V5IDMyIGJ5dGVzIGxvbmc=");
    const real = new Webhook(secret);
    assert.equal(await post(event("vf_unsigned")), 400, "unsigned");
    assert.equal(await post(event("vf_attacker"), "m1", now, attacker.sign("m1", now, event("vf_attacker"))), 400, "attacker's key");
    assert.equal(await post(event("vf_tampered"), "m2", now, real.sign("m2", now, event("vf_genuine"))), 400, "body changed");
    assert.equal(await post(event("vf_replayed"), "m3", old, real.sign("m3", old, event("vf_replayed"))), 400, "replayed after ten minutes");
    assert.equal(await post(event("vf_genuine"), "m4", now, real.sign("m4", now, event("vf_genuine"))), 204, "genuine");
    assert.deepEqual(seen, ["vf_genuine"]);
  } finally {
    srv.close();
  }
});
