CREATE TABLE "audit_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"event" "bytea" NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_outbox_created_at_idx" ON "audit_outbox" USING btree ("created_at");