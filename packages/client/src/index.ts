export { createBrokerClient } from './broker-client';
export type {
  BrokerBudget,
  BrokerClient,
  BrokerClientOptions,
  BrokerLimits,
  BrokerSession,
  BrokerSessionSummary,
  CreateSessionOptions,
} from './broker-client';
export { BrokerError, formatSeconds } from './broker-error';
export type { BrokerErrorCode, BudgetScope, BudgetWindow } from './broker-error';
export { expiringSoonSeconds, watchExpiry } from './expiry-watch';
export type { ExpiryWatchOptions } from './expiry-watch';
