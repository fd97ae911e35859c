import {
  checkDescription,
  checkNewToken,
  checkPresentedToken,
  checkSecretName,
  checkServiceName,
  checkServiceVersion,
  type Violation,
} from "./rules.ts";

/** Everything wrong with a GetSecret request, empty when it is valid. */
export function checkGetSecret(request: {
  secretName: string;
  description: string;
  token: string;
}): Violation[] {
  return [
    ...checkSecretName(request.secretName),
    ...checkDescription(request.description),
    ...checkPresentedToken(request.token),
  ];
}

/** Everything wrong with a RegisterToken request, empty when it is valid. */
export function checkRegisterToken(request: {
  serviceName: string;
  serviceVersion: string;
  token: string;
}): Violation[] {
  return [
    ...checkServiceName(request.serviceName),
    ...checkServiceVersion(request.serviceVersion),
    ...checkNewToken(request.token),
  ];
}

/** Most secrets one GetSecrets call may name. */
export const maxSecretsPerCall = 100;

/** Everything wrong with a GetSecrets request, empty when it is valid (fields as `secrets[i].secret_name`). */
export function checkGetSecrets(request: {
  secrets: readonly { secretName: string; description: string }[];
  token: string;
}): Violation[] {
  const violations: Violation[] = [];
  if (request.secrets.length === 0) {
    violations.push({ field: "secrets", description: "must name at least one secret" });
  } else if (request.secrets.length > maxSecretsPerCall) {
    violations.push({ field: "secrets", description: `must name at most ${maxSecretsPerCall} secrets` });
  } else {
    const seen = new Set<string>();
    request.secrets.forEach((secret, index) => {
      const field = `secrets[${index}]`;
      violations.push(...checkSecretName(secret.secretName, `${field}.secret_name`));
      violations.push(...checkDescription(secret.description, `${field}.description`));
      if (seen.has(secret.secretName))
        violations.push({ field: `${field}.secret_name`, description: "names a secret listed before" });
      seen.add(secret.secretName);
    });
  }
  violations.push(...checkPresentedToken(request.token));
  return violations;
}

/** Most secrets one WatchSecrets stream may name (the gateway and the vault apply the same bound). */
export const maxWatchedSecrets = 100;

/** Everything wrong with the names of a WatchSecrets request: 1 to `maxWatchedSecrets` valid names. */
export function checkWatchSecretNames(secretNames: readonly string[]): Violation[] {
  if (secretNames.length === 0)
    return [{ field: "secret_names", description: "must name at least one secret" }];
  if (secretNames.length > maxWatchedSecrets) {
    return [{ field: "secret_names", description: `must name at most ${maxWatchedSecrets} secrets` }];
  }
  return secretNames.flatMap((name, index) => checkSecretName(name, `secret_names[${index}]`));
}

/** Everything wrong with a WatchSecrets request (its names, then its token), empty when it is valid. */
export function checkWatchSecrets(request: { secretNames: readonly string[]; token: string }): Violation[] {
  return [...checkWatchSecretNames(request.secretNames), ...checkPresentedToken(request.token)];
}
