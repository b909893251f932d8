// Compile-time check that the SDK's hand-written types have exactly the
// properties of openapi.json's schemas (as openapi-typescript renders them
// in gen/schema.d.ts): a field added to the document fails `npm run gen`
// (tsc --strict) until src/types.ts has it.
import type * as sdk from "../dist/index.js";
import type { components } from "./schema.js";

type S = components["schemas"];
type Keys<T> = T extends unknown ? keyof T : never;
type Same<A, B> = [Exclude<Keys<A>, Keys<B>>, Exclude<Keys<B>, Keys<A>>] extends [never, never]
  ? true
  : { onlyInDocument: Exclude<Keys<A>, Keys<B>>; onlyInSDK: Exclude<Keys<B>, Keys<A>> };

export const specSync: {
  // StartVerificationRequest is absent: its anyOf ("channel or workflow")
  // makes openapi-typescript render it as unknown. sdk/go's test covers it.
  WorkflowStep: Same<S["WorkflowStep"], sdk.WorkflowStep>;
  VerificationData: Same<S["VerificationData"], sdk.VerificationData>;
  Verification: Same<S["Verification"], sdk.Verification>;
  CheckResult: Same<S["CheckResult"], sdk.CheckResult>;
  PublicStatus: Same<S["PublicStatus"], sdk.PublicStatus>;
  PublicCheckResult: Same<S["PublicCheckResult"], sdk.PublicCheckResult>;
  CallView: Same<S["CallView"], sdk.CallView>;
  OutboundView: Same<S["OutboundView"], sdk.OutboundView>;
  StepChange: Same<S["StepChange"], sdk.StepChange>;
  FraudView: Same<S["FraudView"], sdk.FraudView>;
  EventData: Same<S["EventData"], sdk.EventData>;
  WebhookEvent: Same<S["WebhookEvent"], sdk.RinggateEvent>;
  App: Same<S["App"], sdk.App>;
  AppSettings: Same<S["AppSettings"], sdk.AppSettings>;
  SettingsPatch: Same<S["SettingsPatch"], sdk.SettingsPatch>;
  CallerIDRange: Same<S["CallerIDRange"], sdk.CallerIDRange>;
  RateLimit: Same<S["RateLimit"], sdk.RateLimit>;
  RiskHook: Same<S["RiskHook"], sdk.RiskHook>;
  Delivery: Same<S["Delivery"], sdk.Delivery>;
  ApiKey: Same<S["ApiKey"], sdk.ApiKey>;
  NewApiKey: Same<S["NewApiKey"], sdk.NewApiKey>;
  NewApiKeyRequest: Same<S["NewApiKeyRequest"], sdk.NewApiKeyRequest>;
  AuditEntry: Same<S["AuditEntry"], sdk.AuditEntry>;
  PrefixBlock: Same<S["PrefixBlock"], sdk.PrefixBlock>;
  Problem: Same<S["Problem"], sdk.Problem>;
  CompatCredentials: Same<S["CompatCredentials"], sdk.CompatCredentials>;
  NewCompatCredentials: Same<S["NewCompatCredentials"], sdk.NewCompatCredentials>;
  VonagePublicKeyRequest: Same<S["VonagePublicKeyRequest"], sdk.VonagePublicKeyRequest>;
  VonageStatusURLRequest: Same<S["VonageStatusURLRequest"], sdk.VonageStatusURLRequest>;
  // Enums: the same values both ways.
  Channel: [Exclude<S["Channel"], sdk.Channel>, Exclude<sdk.Channel, S["Channel"]>] extends [never, never] ? true : false;
  EventType: [Exclude<S["EventType"], sdk.EventType>, Exclude<sdk.EventType, S["EventType"]>] extends [never, never] ? true : false;
  Reason: [Exclude<S["Reason"], sdk.Reason>, Exclude<sdk.Reason, S["Reason"]>] extends [never, never] ? true : false;
  ProblemCode: [Exclude<S["Problem"]["code"], sdk.ProblemCode>, Exclude<sdk.ProblemCode, S["Problem"]["code"]>] extends [never, never] ? true : false;
} = {
  WorkflowStep: true,
  VerificationData: true,
  Verification: true,
  CheckResult: true,
  PublicStatus: true,
  PublicCheckResult: true,
  CallView: true,
  OutboundView: true,
  StepChange: true,
  FraudView: true,
  EventData: true,
  WebhookEvent: true,
  App: true,
  AppSettings: true,
  SettingsPatch: true,
  CallerIDRange: true,
  RateLimit: true,
  RiskHook: true,
  Delivery: true,
  ApiKey: true,
  NewApiKey: true,
  NewApiKeyRequest: true,
  AuditEntry: true,
  PrefixBlock: true,
  Problem: true,
  CompatCredentials: true,
  NewCompatCredentials: true,
  VonagePublicKeyRequest: true,
  VonageStatusURLRequest: true,
  Channel: true,
  EventType: true,
  Reason: true,
  ProblemCode: true,
};
