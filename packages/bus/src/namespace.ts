/** Lower-case letters, digits, `-` and `_`; it becomes the first subject token and the stream prefix. */
export const namespacePattern = /^[a-z][a-z0-9_-]{0,31}$/;

export const defaultNamespace = "secrets";

export function assertNamespace(namespace: string): void {
  if (!namespacePattern.test(namespace)) {
    throw new Error(`Bus namespace "${namespace}" must match ${namespacePattern}`);
  }
}

/** `secrets` + `v1.vault.ping` → `secrets.v1.vault.ping`. */
export function absoluteSubject(namespace: string, relative: string): string {
  return `${namespace}.${relative}`;
}

/** `secrets` + `AUDIT` → `SECRETS_AUDIT` (stream names cannot hold dots). */
export function absoluteStreamName(namespace: string, relative: string): string {
  return `${namespace.toUpperCase().replaceAll("-", "_")}_${relative}`;
}
