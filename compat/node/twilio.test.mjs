// The official npm `twilio` client, unchanged, against ringgate's Twilio
// Verify v2 API. The one change an app makes: an httpClient (the client's
// own option) that sends what would go to *.twilio.com to ringgate.
// Run by internal/compat/sdktest, which starts ringgate dev and sets
// RINGGATE_URL and the demo app's credentials.
import { test } from "node:test";
import assert from "node:assert/strict";
import twilio from "twilio";

const base = new URL(process.env.RINGGATE_URL);
const sid = process.env.TWILIO_ACCOUNT_SID;
const token = process.env.TWILIO_AUTH_TOKEN;

class ToRinggate extends twilio.RequestClient {
  request(opts) {
    const u = new URL(opts.uri);
    u.protocol = base.protocol;
    u.host = base.host;
    return super.request({ ...opts, uri: u.toString() });
  }
}

const client = twilio(sid, token, { httpClient: new ToRinggate() });

async function phoneCode(number) {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(new URL(`/sim/phones/${encodeURIComponent(number)}`, base));
    const ph = await res.json();
    const last = (ph.messages || []).at(-1);
    const m = last && /\b(\d{6})\b/.exec(last.text);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code reached ${number}`);
}

const wrong = (code) => String((Number(code[0]) + 1) % 10) + code.slice(1);

test("Twilio Verify v2 with the official Node client", async () => {
  const service = await client.verify.v2.services.create({ friendlyName: "Acme", codeLength: 6 });
  assert.match(service.sid, /^VA[0-9a-f]{32}$/);
  assert.equal(service.friendlyName, "Acme");
  assert.equal((await client.verify.v2.services(service.sid).fetch()).sid, service.sid);

  const to = "+447911123460";
  const v = await client.verify.v2.services(service.sid).verifications.create({ to, channel: "sms" });
  assert.equal(v.status, "pending");
  assert.match(v.sid, /^VE[0-9a-f]{32}$/);
  assert.equal(v.sendCodeAttempts.length, 1);
  const code = await phoneCode(to);

  let chk = await client.verify.v2.services(service.sid).verificationChecks.create({ to, code: wrong(code) });
  assert.equal(chk.status, "pending");
  assert.equal(chk.valid, false);
  chk = await client.verify.v2.services(service.sid).verificationChecks.create({ verificationSid: v.sid, code });
  assert.equal(chk.status, "approved");
  assert.equal(chk.valid, true);
  assert.equal((await client.verify.v2.services(service.sid).verifications(v.sid).fetch()).status, "approved");

  const other = await client.verify.v2.services(service.sid).verifications.create({ to: "+447911123461", channel: "call" });
  const canceled = await client.verify.v2.services(service.sid).verifications(other.sid).update({ status: "canceled" });
  assert.equal(canceled.status, "canceled");

  await assert.rejects(
    client.verify.v2.services(service.sid).verifications("VE00000000000000000000000000000000").fetch(),
    (e) => e instanceof twilio.RestException && e.code === 20404 && e.status === 404,
  );

  const third = "+447911123462";
  const v3 = await client.verify.v2.services(service.sid).verifications.create({ to: third, channel: "sms" });
  const code3 = await phoneCode(third);
  for (let i = 1; i <= 5; i++) {
    const c = await client.verify.v2.services(service.sid).verificationChecks.create({ verificationSid: v3.sid, code: wrong(code3) });
    assert.equal(c.valid, false);
    assert.equal(c.status, i < 5 ? "pending" : "max_attempts_reached");
  }
  await assert.rejects(
    client.verify.v2.services(service.sid).verificationChecks.create({ verificationSid: v3.sid, code: code3 }),
    (e) => e instanceof twilio.RestException && e.code === 60202 && e.status === 429,
  );

  // ringgate's own channel by name, with its extension fields.
  const mc = await client.verify.v2.services(service.sid).verifications.create({ to: "+447911123463", channel: "flash_call" });
  assert.equal(mc.status, "pending");
  assert.equal(mc.channel, "flash_call");
});

test("a wrong Auth Token is RestException 20003", async () => {
  const bad = twilio(sid, "x".repeat(32), { httpClient: new ToRinggate() });
  await assert.rejects(
    bad.verify.v2.services.create({ friendlyName: "Acme" }),
    (e) => e instanceof twilio.RestException && e.code === 20003 && e.status === 401,
  );
});
