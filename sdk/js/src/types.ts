// Types of ringgate's REST API (openapi.json, served at /openapi.json).
// Timestamps are RFC 3339 strings, as on the wire.

export type Channel = "missed_call" | "flash_call" | "answer_call" | "voice_otp" | "sms_otp";

export type VerificationStatus = "pending" | "verified" | "failed" | "expired" | "canceled";

/** "000" verified, "001" not; null while pending. */
export type ResultCode = "000" | "001" | null;

export type Reason =
  | "not_dialed"
  | "not_checked"
  | "no_answer"
  | "machine"
  | "max_attempts"
  | "carrier_error"
  | "canceled"
  | "wrong_code"
  | "blocked"
  | "wrong_number"
  | "superseded"
  | "busy"
  | "undelivered"
  | null;

export interface WorkflowStep {
  channel: Channel;
  timeout_s?: number;
}

export interface StartRequest {
  phone: string;
  channel?: Channel;
  workflow?: WorkflowStep[];
  country?: string;
  callback_url?: string;
  timeout_s?: number;
  code_length?: number;
  ring_timeout_s?: number;
  locale?: string;
  metadata?: Record<string, string>;
  /** The end user's address (never your server's): the per-IP limit counts it. */
  client_ip?: string;
}

export interface VerificationData {
  id: string;
  status: VerificationStatus;
  channel: Channel;
  phone: string;
  country: string;
  dial_number?: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  metadata: Record<string, string>;
  result_code: ResultCode;
  reason: Reason;
  sandbox: boolean;
  workflow: Required<WorkflowStep>[];
  step: number;
  verified_channel: Channel | null;
  attempts: number;
  code_length?: number;
  cli_filter?: string;
  interception_timeout_s?: number;
  caller_id?: string;
  locale?: string;
}

export interface Verification extends VerificationData {
  /** Lets a browser follow this verification; hand it to the page, never the API key. */
  client_token: string;
}

/** The code the user typed, or (flash call) the caller ID the app caught. */
export type CheckRequest = { code: string; cli?: never } | { cli: string; code?: never };

export interface CheckResult extends Verification {
  valid: boolean;
  attempts_remaining: number;
}

/** The page-safe view a client token reads (phone masked). */
export interface PublicStatus {
  id: string;
  status: VerificationStatus;
  channel: Channel;
  phone: string;
  dial_number?: string;
  /** `dial_number` in its country's national format, for a visitor there. */
  dial_number_national?: string;
  /** `dial_number` in international format with spaces only. */
  dial_number_international?: string;
  /** The region of `dial_number` (ISO 3166-1 alpha-2). */
  dial_country?: string;
  expires_at: string;
  expires_in_s: number;
  result_code: ResultCode;
  reason: Reason;
  completed_at: string | null;
  code_length?: number;
  next_channel?: Channel;
}

export interface PublicCheckResult extends PublicStatus {
  valid: boolean;
  attempts_remaining: number;
}

export interface CallView {
  from: string;
  to: string;
  matched: boolean;
  received_at: string;
  reason?: "diverted";
}

export interface OutboundView {
  id?: string;
  carrier?: string;
  answered_by?: "human" | "machine" | "unknown";
  cause?: string;
  error?: string;
}

export interface StepChange {
  from_channel: Channel;
  why: "requested" | "not_dialed" | "not_checked" | "no_answer" | "machine" | "carrier_error";
}

export interface FraudView {
  prefix: string;
  started: number;
  verified: number;
  until: string;
}

export interface EventData extends VerificationData {
  call?: CallView;
  outbound?: OutboundView;
  check?: { attempts: number };
  step_change?: StepChange;
  fraud?: FraudView;
}

export type EventType =
  | "verification.created"
  | "call.received"
  | "verification.step"
  | "check.failed"
  | "call.placed"
  | "call.ringing"
  | "call.answered"
  | "call.ended"
  | "sms.sent"
  | "sms.delivered"
  | "sms.failed"
  | "verification.verified"
  | "verification.expired"
  | "verification.canceled"
  | "verification.failed"
  | "fraud.prefix_blocked";

/** The event types that end a verification. */
export const FINAL_EVENTS: readonly EventType[] = [
  "verification.verified",
  "verification.expired",
  "verification.canceled",
  "verification.failed",
];

/** A webhook's body, and each event of the live stream. */
export interface RinggateEvent<T extends EventType = EventType> {
  type: T;
  timestamp: string;
  data: EventData;
}

/** An event of the live stream, with its SSE id (resume after it). */
export interface StreamEvent extends RinggateEvent {
  id: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface ListVerificationsParams {
  phone?: string;
  status?: VerificationStatus;
  limit?: number;
  cursor?: string;
}

export interface CallerIDRange {
  country?: string;
  pattern: string;
}

export interface RateLimit {
  scope: "phone" | "prefix" | "country" | "ip" | "app" | "api_key";
  max: number;
  window_s: number;
}

export interface RiskHook {
  url: string;
  fail_closed?: boolean;
}

export interface AppSettings {
  sms_templates?: Record<string, string>;
  android_app_hash?: string;
  sms_sender?: string;
  dialplan_xml?: string;
  flash_caller_ids?: CallerIDRange[];
  rate_limits?: RateLimit[];
  allowed_countries?: Record<string, string[]>;
  deny_prefixes?: string[];
  risk_hook?: RiskHook;
  max_wrong_number_calls?: number;
  /** "both": call.received and verification.verified per verifying call; absent or "verified" (the default): verification.verified alone. */
  matched_call_events?: "both" | "verified";
}

export interface App {
  id: string;
  name: string;
  default_callback_url: string;
  settings: AppSettings;
  created_at: string;
}

/** A field left out (or null) is left as it is; an empty value clears it. */
export type SettingsPatch = {
  name?: string | null;
  default_callback_url?: string | null;
} & { [K in keyof AppSettings]?: AppSettings[K] | null };

export interface WebhookSecret {
  webhook_secret: string;
  previous_secret_valid_until: string | null;
}

/** The public halves of the app's credentials for the compatible APIs (GET /v1/app/compat-credentials). */
export interface CompatCredentials {
  twilio_account_sid: string;
  twilio_api_key_sid: string;
  vonage_api_key: string;
  vonage_application_id: string;
  /** Whether a Vonage application public key is installed. */
  vonage_public_key: boolean;
  vonage_status_url: string;
  updated_at: string;
}

/** Freshly made compat credentials, secrets included: shown once. */
export interface NewCompatCredentials {
  app_id: string;
  twilio_account_sid: string;
  twilio_auth_token: string;
  twilio_api_key_sid: string;
  twilio_api_key_secret: string;
  vonage_api_key: string;
  vonage_api_secret: string;
  vonage_application_id: string;
  vonage_signature_secret: string;
}

export interface VonagePublicKeyRequest {
  public_key: string;
}

export interface VonageStatusURLRequest {
  url: string;
}

export interface Erasure {
  phone: string;
  deleted: { verifications: number; events: number; jobs: number; deliveries: number; calls: number };
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Delivery {
  id: string;
  verification_id: string;
  type: EventType;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface ListDeliveriesParams {
  status?: DeliveryStatus;
  verification_id?: string;
  limit?: number;
  cursor?: string;
}

export type KeyScope = "verify" | "admin";

export interface ApiKey {
  id: string;
  prefix: string;
  kind: "live" | "test";
  scope: KeyScope;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  current: boolean;
}

export interface NewApiKey extends ApiKey {
  /** Shown this once: ringgate keeps only its hash. */
  key: string;
}

export interface NewApiKeyRequest {
  scope: KeyScope;
  kind?: "live" | "test";
  expires_at?: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

export interface ListAuditParams {
  action?: string;
  limit?: number;
  cursor?: string;
}

export interface PrefixBlock {
  prefix: string;
  reason: string;
  started: number;
  verified: number;
  blocked_at: string;
  until: string;
}

/** The stable problem codes (Problem.code). */
export type ProblemCode =
  | "invalid_request"
  | "invalid_phone"
  | "unsupported_channel"
  | "callback_required"
  | "invalid_code"
  | "malformed_json"
  | "invalid_parameter"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "no_such_route"
  | "simulator_disabled"
  | "method_not_allowed"
  | "not_pending"
  | "not_checkable"
  | "no_next_step"
  | "conflict"
  | "body_timeout"
  | "body_too_large"
  | "unsupported_media_type"
  | "no_pool_number"
  | "no_caller_id"
  | "no_route"
  | "invalid_dialplan"
  | "idempotency_key_reused"
  | "internal"
  | "unavailable"
  | "no_call"
  | "call_state"
  | "rate_limited"
  | "prefix_blocked"
  | "country_not_allowed"
  | "prefix_denied"
  | "risk_denied"
  | "unknown_field"
  | "sms_to_landline"
  | "premium_number";

/** An RFC 9457 problem as the API sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  field?: string;
  line?: number;
  limit?: string;
  retry_after_s?: number;
}
