import { createAccessRequestsDal } from "../access-requests/access-requests-dal.ts";
import { createAuditOutboxDal } from "../audit/audit-outbox-dal.ts";
import { createSecretVersionsDal } from "../secrets/secret-versions-dal.ts";
import { createSecretsDal } from "../secrets/secrets-dal.ts";
import { createServiceTokensDal } from "../service-tokens/service-tokens-dal.ts";
import type { Database } from "./connection.ts";

/** Every data-access object, bound to one database handle (the pool, or a transaction). */
export function createDals(db: Database) {
  return {
    secrets: createSecretsDal({ db }),
    secretVersions: createSecretVersionsDal({ db }),
    accessRequests: createAccessRequestsDal({ db }),
    serviceTokens: createServiceTokensDal({ db }),
    auditOutbox: createAuditOutboxDal({ db }),
  };
}

export type Dals = ReturnType<typeof createDals>;

/** Runs `work` in one transaction with DALs bound to it; commits when it resolves, rolls back if it throws. */
export function inTransaction<T>(db: Database, work: (dals: Dals) => Promise<T>): Promise<T> {
  return db.transaction((tx) => work(createDals(tx)));
}
