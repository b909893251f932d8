// The SDK against a real `ringgate dev` (one for this file).
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Client, PageClient, RinggateError, parseWebhook, WebhookVerificationError } from "../dist/index.js";
import { API_KEY, WEBHOOK_SECRET, simCall, startRinggate } from "./server.mjs";

let rg;
let client;
let hookServer;
const hooks = []; // events our webhook endpoint accepted
const hookWaiters = [];

before(async () => {
  rg = await startRinggate();
  client = new Client(API_KEY, { baseUrl: rg.url });
  // The app's webhook endpoint: raw body in, parseWebhook, 204 (or 400).
  hookServer = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    try {
      const ev = await parseWebhook(WEBHOOK_SECRET, req.headers, Buffer.concat(chunks));
      hooks.push(ev);
      hookWaiters.forEach((w) => w());
      res.writeHead(204).end();
    } catch (e) {
      res.writeHead(e instanceof WebhookVerificationError ? 400 : 500).end(String(e));
    }
  });
  await new Promise((r) => hookServer.listen(0, "127.0.0.1", r));
  await client.updateApp({ default_callback_url: `http://127.0.0.1:${hookServer.address().port}/hooks` });
});

after(async () => {
  hookServer?.close();
  await rg?.stop();
});

function waitHook(id, type) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const ev = hooks.find((e) => e.data.id === id && e.type === type);
      if (ev) {
        clearTimeout(timer);
        resolve(ev);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => reject(new Error(`no ${type} webhook for ${id} in 20s`)), 20_000);
    if (!check()) hookWaiters.push(check);
  });
}

test("a missed call, end to end: start, live events with the client token, webhook", async () => {
  const phone = "+442079460201";
  const v = await client.start({ phone, channel: "missed_call", client_ip: "203.0.113.7", metadata: { user: "u1" } });
  assert.equal(v.status, "pending");
  assert.ok(v.dial_number && v.client_token);
  // A browser would hold only this.
  const page = new PageClient(v.id, v.client_token, { baseUrl: rg.url });
  const stream = page.events();
  const first = await stream.next();
  assert.equal(first.value.type, "verification.created");
  await simCall(rg.url, phone, v.dial_number);
  const types = [];
  for await (const ev of stream) types.push(ev.type);
  assert.deepEqual(types, ["verification.verified"]); // one event per verifying call, carrying the call
  const got = await client.get(v.id);
  assert.equal(got.status, "verified");
  assert.equal(got.result_code, "000");
  assert.equal(got.metadata.user, "u1");
  const hook = await waitHook(v.id, "verification.verified");
  assert.equal(hook.data.call.matched, true);
  const st = await page.status();
  assert.equal(st.status, "verified");
  assert.ok(!st.phone.includes("7946"), `masked phone: ${st.phone}`);
  const ds = [];
  for await (const d of client.deliveries({ verification_id: v.id, limit: 1 })) ds.push(d);
  assert.deepEqual(ds.map((d) => d.type), ["verification.verified"]); // one webhook per verifying call
  assert.equal((await client.retryDelivery(ds[0].id)).id, ds[0].id);
  await assert.rejects(client.cancel(v.id), (e) => e instanceof RinggateError && e.code === "not_pending" && e.status === 409);
});

test("events resume after Last-Event-ID, and end with 204", async () => {
  const phone = "+442079460202";
  const v = await client.start({ phone, channel: "missed_call", callback_url: `${rg.url}/dev/webhooks` });
  const s1 = client.events(v.id);
  const first = (await s1.next()).value;
  assert.equal(first.type, "verification.created");
  await s1.return();
  await simCall(rg.url, phone, v.dial_number);
  const types = [];
  let last;
  for await (const ev of client.events(v.id, { lastEventId: first.id })) {
    types.push(ev.type);
    last = ev.id;
  }
  assert.notEqual(types[0], "verification.created");
  assert.equal(types.at(-1), "verification.verified");
  const rest = [];
  for await (const ev of client.events(v.id, { lastEventId: last })) rest.push(ev);
  assert.deepEqual(rest, []);
});

test("a flash call checked from the page with the caller ID", async () => {
  const phone = "+442079460203";
  const v = await client.start({ phone, channel: "flash_call", callback_url: `${rg.url}/dev/webhooks` });
  assert.ok(v.cli_filter && v.code_length);
  let cli;
  for (let i = 0; i < 200 && !cli; i++) {
    const r = await fetch(`${rg.url}/sim/phones/${encodeURIComponent(phone)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const p = await r.json();
    cli = p.calls?.[0]?.from;
    if (!cli) await new Promise((r) => setTimeout(r, 50)); // polling the simulator: no event to wait on
  }
  assert.ok(cli, "the phone got no call");
  const page = client.page(v.id, v.client_token);
  const bad = await page.check({ cli: "+15005550006" });
  assert.equal(bad.valid, false);
  assert.equal(bad.attempts_remaining, 4);
  const good = await page.check({ cli });
  assert.equal(good.valid, true);
  assert.equal(good.status, "verified");
});

test("errors are typed problems, never swallowed", async () => {
  await assert.rejects(client.start({ phone: "12", channel: "missed_call" }), (e) => e instanceof RinggateError && e.code === "invalid_phone" && e.field === "phone" && e.status === 400);
  await assert.rejects(client.get("vf_00000000000000000000000000000000"), { code: "not_found" });
  await assert.rejects(new Client("rg_live_wrong0000000000000000000000", { baseUrl: rg.url }).get("vf_1"), { code: "unauthorized", status: 401 });
  await assert.rejects(new PageClient("vf_00000000000000000000000000000000", "ct_forged", { baseUrl: rg.url }).status(), (e) => e instanceof RinggateError && e.status === 401);
  await assert.rejects(client.unblockPrefix("+999"), { code: "not_found" });
  assert.throws(() => new Client(""), TypeError);
});

test("compat credentials: rotate, install a Vonage key and status URL, read the public halves", async () => {
  const nc = await client.rotateCompatCredentials();
  assert.match(nc.twilio_account_sid, /^AC[0-9a-f]{32}$/);
  assert.match(nc.twilio_auth_token, /^[A-Za-z0-9]{32}$/);
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await client.setVonagePublicKey(publicKey.export({ type: "spki", format: "pem" }).toString());
  await assert.rejects(client.setVonagePublicKey("not a key"), { code: "invalid_request", status: 400 });
  await client.setVonageStatusURL("");
  const cc = await client.compatCredentials();
  assert.equal(cc.twilio_account_sid, nc.twilio_account_sid);
  assert.equal(cc.vonage_api_key, nc.vonage_api_key);
  assert.equal(cc.vonage_public_key, true);
  assert.match(cc.updated_at, /\.\d{3}Z$/);
});

test("idempotent start, paging, cancel, erase", async () => {
  const phone = "+442079460205";
  const body = { phone, channel: "missed_call", callback_url: `${rg.url}/dev/webhooks` };
  const a = await client.start(body, { idempotencyKey: "signup-js-1" });
  const b = await client.start(body, { idempotencyKey: "signup-js-1" });
  assert.equal(a.id, b.id);
  const d = await client.start(body);
  const ids = [];
  for await (const v of client.list({ phone, limit: 1 })) ids.push(v.id);
  assert.deepEqual(ids, [d.id, a.id]);
  assert.equal((await client.cancel(d.id)).status, "canceled");
  assert.equal((await client.erasePhone(phone)).deleted.verifications, 2);
});

test("admin routes: app, keys, audit, fraud", async () => {
  const app = await client.app();
  assert.equal(app.id, "app_demo");
  const k = await client.createKey({ scope: "verify" });
  assert.match(k.key, /^rg_live_/);
  assert.ok((await client.keys()).length >= 2);
  await assert.rejects(new Client(k.key, { baseUrl: rg.url }).app(), { status: 403 });
  assert.ok((await client.revokeKey(k.id)).revoked_at);
  let found = false;
  for await (const e of client.audit({ action: "key.revoked" })) if (e.target === k.id || JSON.stringify(e.detail).includes(k.prefix)) found = true;
  assert.ok(found, "no key.revoked audit entry");
  assert.ok(Array.isArray(await client.blockedPrefixes()));
});

test("the fetch-handler example: sign-up through ringgate, webhook in", async () => {
  const { makeHandler } = await import("../examples/fetch-backend.mjs");
  const { Webhook } = await import("standardwebhooks");
  const seen = [];
  const h = makeHandler({ apiKey: API_KEY, baseUrl: rg.url, webhookSecret: WEBHOOK_SECRET, onVerified: async (id) => void seen.push(id) });
  const r = await h.fetch(new Request("http://backend.test/signup", { method: "POST", body: JSON.stringify({ phone: "+442079460206" }) }));
  assert.equal(r.status, 200);
  const { verification_id, dial_number } = await r.json();
  assert.ok(verification_id && dial_number);
  const bad = await h.fetch(new Request("http://backend.test/signup", { method: "POST", body: JSON.stringify({ phone: "12" }) }));
  assert.equal(bad.status, 400);
  const body = JSON.stringify({ type: "verification.verified", timestamp: new Date().toISOString(), data: { id: verification_id, phone: "+442079460206" } });
  const sign = (secret) => new Webhook(secret).sign("msg_ex", new Date(), body);
  const post = (sig) =>
    h.fetch(new Request("http://backend.test/hooks/ringgate", {
      method: "POST",
      body,
      headers: { "webhook-id": "msg_ex", "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": sig },
    }));
  assert.equal((await post(sign("whsec_YXR0YWNrZXIncyBvd24ga2V5IDMyIGJ5dGVzIGxvbmc="))).status, 400);
  assert.deepEqual(seen, []);
  assert.equal((await post(sign(WEBHOOK_SECRET))).status, 204);
  assert.deepEqual(seen, [verification_id]);
});

test("the page's requests are CORS-simple (no preflight, which ringgate does not answer)", async () => {
  const phone = "+442079460207";
  const v = await client.start({ phone, channel: "missed_call", callback_url: `${rg.url}/dev/webhooks` });
  const sent = [];
  const recording = async (url, init) => {
    sent.push({ url: String(url), method: init?.method ?? "GET", headers: [...new Headers(init?.headers).keys()] });
    return fetch(url, init);
  };
  const page = new PageClient(v.id, v.client_token, { baseUrl: rg.url, fetch: recording });
  const s = page.events();
  const first = (await s.next()).value;
  await s.return();
  await assert.rejects(page.check({ code: "000000" }), { code: "not_checkable" }); // a missed call takes no code; the request itself went through
  await simCall(rg.url, phone, v.dial_number);
  const rest = [];
  for await (const ev of page.events({ lastEventId: first.id })) rest.push(ev.type);
  assert.equal(rest.at(-1), "verification.verified");
  assert.equal((await page.status()).status, "verified");
  for (const r of sent) {
    assert.ok(["GET", "POST"].includes(r.method), r.method);
    for (const h of r.headers) assert.ok(["accept"].includes(h), `${r.method} ${r.url}: header ${h} would need a preflight`);
    assert.ok(!r.url.includes(API_KEY));
  }
  assert.ok(sent.some((r) => r.url.includes("last_event_id=")), "resume went by the query");
});
