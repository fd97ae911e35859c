CREATE TABLE "secret_versions" (
	"secret_id" text NOT NULL,
	"version" integer NOT NULL,
	"value_encrypted" "bytea" NOT NULL,
	"key_id" bigint NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"restored_from" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "secret_versions_secret_id_version_pk" PRIMARY KEY("secret_id","version")
);
--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "secret_versions" ADD CONSTRAINT "secret_versions_secret_id_secrets_id_fk" FOREIGN KEY ("secret_id") REFERENCES "public"."secrets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "secret_versions_key_id_idx" ON "secret_versions" USING btree ("key_id");--> statement-breakpoint
-- Values set before versions existed become version 1.
UPDATE "secrets" SET "version" = 1 WHERE "value_encrypted" IS NOT NULL;--> statement-breakpoint
INSERT INTO "secret_versions" ("secret_id", "version", "value_encrypted", "key_id", "created_at", "created_by")
SELECT "id", 1, "value_encrypted", "key_id", "updated_at", "created_by" FROM "secrets" WHERE "value_encrypted" IS NOT NULL;
