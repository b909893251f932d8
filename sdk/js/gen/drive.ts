// A missed-call verification driven through a client generated from
// openapi.json by openapi-typescript (types, gen/schema.d.ts) and
// openapi-fetch (calls): if the document cannot serve a mainstream
// generator, this fails to compile (tsc --strict) or to run.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

export interface Outcome {
  id: string;
  status: string;
  resultCode: string | null | undefined;
  publicStatus: string;
  events: string[];
}

export async function driveMissedCall(baseUrl: string, apiKey: string, phone: string): Promise<Outcome> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const started = await api.POST("/v1/verifications", {
    params: { header: { "Idempotency-Key": `gen-ts-${phone}` } },
    body: { phone, channel: "missed_call", client_ip: "203.0.113.9" },
  });
  if (!started.data) throw new Error(`start: ${started.response.status} ${JSON.stringify(started.error)}`);
  const v = started.data;
  if (!v.dial_number) throw new Error("no dial_number");

  const call = await api.POST("/sim/calls", { body: { from: phone, to: v.dial_number } });
  if (!call.data) throw new Error(`sim call: ${call.response.status}`);
  if (call.data.verification_id !== v.id) throw new Error(`the call matched ${call.data.verification_id}, not ${v.id}`);

  const got = await api.GET("/v1/verifications/{id}", { params: { path: { id: v.id } } });
  if (!got.data) throw new Error(`get: ${got.response.status}`);

  // The page's routes, with the client token and no API key: the token is
  // the clientToken security scheme (an API key in the query), which
  // openapi-fetch leaves to a middleware, as for any auth.
  const page = createClient<paths>({ baseUrl });
  const token = v.client_token;
  page.use({
    onRequest({ request }) {
      const u = new URL(request.url);
      u.searchParams.set("token", token);
      return new Request(u, request);
    },
  });
  const st = await page.GET("/v1/verifications/{id}/status", { params: { path: { id: v.id } } });
  if (!st.data) throw new Error(`status: ${st.response.status}`);

  const ev = await page.GET("/v1/verifications/{id}/events", {
    params: { path: { id: v.id } },
    parseAs: "text",
  });
  if (ev.data === undefined) throw new Error(`events: ${ev.response.status}`);
  const events = ev.data
    .split("\n")
    .filter((l) => l.startsWith("event: "))
    .map((l) => l.slice(7));

  return { id: v.id, status: got.data.status, resultCode: got.data.result_code, publicStatus: st.data.status, events };
}
