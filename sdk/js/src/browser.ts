// The browser-safe part: the client-token routes (status, check, next,
// events). Nothing here holds or sends an API key.
export { PageClient } from "./page.js";
export { RinggateError, RinggateResponseError } from "./errors.js";
export type { StreamOptions } from "./events.js";
export type { TransportOptions } from "./transport.js";
export * from "./types.js";
