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
