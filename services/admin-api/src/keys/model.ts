import { t } from "elysia";
import { timestamp } from "../shared/model.ts";

export const KeyStatus = t.Object(
  {
    lastRotatedAt: timestamp("When the current encryption key was created"),
    nextRotationAt: timestamp("When it will be rotated by schedule (KEY_ROTATION_INTERVAL_DAYS)"),
    pendingRewrap: t.Integer({
      description:
        "Values (current and kept versions) still under an older key; the background rewrap moves them",
    }),
    keyCount: t.Integer({
      description:
        "Keys in the key file: the current one and older ones still in use or in their grace period",
    }),
  },
  { description: "Encryption-key rotation, without any key material or key id" },
);
export type KeyStatus = typeof KeyStatus.static;

export const RotationStarted = t.Object(
  {
    rotatedAt: timestamp("When the new current key was created"),
    pendingRewrap: t.Integer({
      description: "Values still under older keys; the rewrap moves them in the background",
    }),
  },
  { description: "The key was rotated; new writes use the new key at once" },
);
export type RotationStarted = typeof RotationStarted.static;
