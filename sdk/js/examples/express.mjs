// A sign-up backend on Express (npm i express @ringgate/sdk): verify the
// user's phone by missed call, and take the result from the signed webhook.
//
//   RINGGATE_URL=http://127.0.0.1:8080 RINGGATE_API_KEY=rg_live_… \
//   RINGGATE_WEBHOOK_SECRET=whsec_… node examples/express.mjs
import express from "express";
import { Client, RinggateError, parseWebhook, WebhookVerificationError } from "@ringgate/sdk";

const rg = new Client(process.env.RINGGATE_API_KEY, { baseUrl: process.env.RINGGATE_URL });
const verified = new Set(); // your user table

const app = express();

app.post("/signup", express.json(), async (req, res) => {
  try {
    const v = await rg.start({ phone: req.body.phone, channel: "missed_call", client_ip: req.ip });
    // The page shows dial_number and follows the result with the client token
    // (PageClient from "@ringgate/sdk/browser", or the <ringgate-verify> widget).
    res.json({ verification_id: v.id, dial_number: v.dial_number, client_token: v.client_token, expires_at: v.expires_at });
  } catch (e) {
    if (e instanceof RinggateError && e.code === "invalid_phone") return res.status(400).json({ error: "not a phone number" });
    if (e instanceof RinggateError && e.status === 429) return res.status(429).json({ error: "too many attempts" });
    throw e; // Express answers 500: never swallow an error
  }
});

// The raw body: the signature covers the exact bytes.
app.post("/hooks/ringgate", express.raw({ type: "application/json" }), async (req, res) => {
  let ev;
  try {
    ev = await parseWebhook(process.env.RINGGATE_WEBHOOK_SECRET, req.headers, req.body);
  } catch (e) {
    if (e instanceof WebhookVerificationError) return res.status(400).send(e.kind);
    throw e;
  }
  if (ev.type === "verification.verified") verified.add(ev.data.id);
  res.status(204).end(); // anything else than 2xx: ringgate delivers it again
});

app.get("/signup/:id", (req, res) => res.json({ verified: verified.has(req.params.id) }));

app.listen(3000, "127.0.0.1");
