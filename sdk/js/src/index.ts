export { Client, type ClientOptions, type StartOptions } from "./client.js";
export { PageClient } from "./page.js";
export { RinggateError, RinggateResponseError } from "./errors.js";
export type { StreamOptions } from "./events.js";
export type { TransportOptions } from "./transport.js";
export {
  verifyWebhook,
  parseWebhook,
  isEventOf,
  WebhookVerificationError,
  type WebhookErrorKind,
  type HeaderSource,
  type VerifyOptions,
} from "./webhook.js";
export * from "./types.js";
