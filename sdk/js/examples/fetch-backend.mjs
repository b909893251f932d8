// A sign-up backend as a plain fetch handler (Request in, Response out):
// runs as is on Deno (Deno.serve(handler.fetch)), Bun (export default),
// Cloudflare Workers, and on Node 20+ through any fetch adapter.
import { Client, RinggateError, parseWebhook, WebhookVerificationError } from "@ringgate/sdk";

export function makeHandler({ apiKey, baseUrl, webhookSecret, onVerified }) {
  const rg = new Client(apiKey, { baseUrl });
  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST" && url.pathname === "/signup") {
        const { phone } = await request.json();
        try {
          const v = await rg.start({ phone, channel: "missed_call", client_ip: request.headers.get("x-forwarded-for") ?? undefined });
          return Response.json({ verification_id: v.id, dial_number: v.dial_number, client_token: v.client_token });
        } catch (e) {
          if (e instanceof RinggateError && e.code === "invalid_phone") return Response.json({ error: "not a phone number" }, { status: 400 });
          throw e;
        }
      }
      if (request.method === "POST" && url.pathname === "/hooks/ringgate") {
        const body = new Uint8Array(await request.arrayBuffer()); // the exact bytes signed
        try {
          const ev = await parseWebhook(webhookSecret, request.headers, body);
          if (ev.type === "verification.verified") await onVerified(ev.data.id, ev.data.phone);
          return new Response(null, { status: 204 });
        } catch (e) {
          if (e instanceof WebhookVerificationError) return new Response(e.kind, { status: 400 });
          throw e; // a 500: ringgate delivers the webhook again
        }
      }
      return new Response("not found", { status: 404 });
    },
  };
}

let handler;
export default {
  fetch(request) {
    handler ??= makeHandler({
      apiKey: globalThis.process?.env.RINGGATE_API_KEY,
      baseUrl: globalThis.process?.env.RINGGATE_URL,
      webhookSecret: globalThis.process?.env.RINGGATE_WEBHOOK_SECRET,
      onVerified: async (id, phone) => console.log("verified", id, phone),
    });
    return handler.fetch(request);
  },
};
