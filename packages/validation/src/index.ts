export { addressKey } from "./address-key.ts";
/** Exponential backoff with jitter and an abortable sleep, the one retry primitive of every process. */
export { type BackoffPolicy, backoffBound, backoffDelay, sleep } from "./backoff.ts";
/** The input rules every boundary applies; each check returns the violations, empty when valid. */
export { clip, stripControlAndFormat, tokenFingerprint } from "./free-text.ts";
/** Token buckets per key, the one rate-limit primitive of the gateway and the admin API. */
export { RateLimiter, type RateLimiterOptions } from "./rate-limiter.ts";
export {
  checkGetSecret,
  checkGetSecrets,
  checkRegisterToken,
  checkWatchSecretNames,
  checkWatchSecrets,
  maxSecretsPerCall,
  maxWatchedSecrets,
} from "./requests.ts";
export {
  checkDescription,
  checkNewToken,
  checkPresentedToken,
  checkSecretName,
  checkServiceName,
  checkServiceVersion,
  checkValue,
  limits,
  secretNamePattern,
  serviceNamePattern,
  tokenAlphabet,
  utf8Length,
  type Violation,
} from "./rules.ts";
