CREATE TABLE "access_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"secret_id" text NOT NULL,
	"service_name" text NOT NULL,
	"requested_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"granted_at" timestamp (3) with time zone,
	"granted_by" text,
	"access_count" bigint DEFAULT 0 NOT NULL,
	"last_accessed_at" timestamp (3) with time zone,
	"requested_description" text DEFAULT '' NOT NULL,
	CONSTRAINT "access_requests_secret_service_unique" UNIQUE("secret_id","service_name"),
	CONSTRAINT "access_requests_status_check" CHECK (status in ('pending', 'granted', 'denied'))
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"value_encrypted" "bytea",
	"key_id" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"is_stub" boolean DEFAULT false NOT NULL,
	CONSTRAINT "secrets_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "service_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"service_name" text NOT NULL,
	"token_hash" text NOT NULL,
	"service_version" text DEFAULT '' NOT NULL,
	"requested_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"approved" boolean GENERATED ALWAYS AS (status = 'approved') STORED,
	"approved_at" timestamp (3) with time zone,
	"approved_by" text,
	"last_used_at" timestamp (3) with time zone,
	"access_count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "service_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "service_tokens_status_check" CHECK (status in ('pending', 'approved', 'denied', 'revoked'))
);
--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_secret_id_secrets_id_fk" FOREIGN KEY ("secret_id") REFERENCES "public"."secrets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "access_requests_service_status_idx" ON "access_requests" USING btree ("service_name","status");--> statement-breakpoint
CREATE INDEX "access_requests_status_requested_idx" ON "access_requests" USING btree ("status","requested_at");--> statement-breakpoint
CREATE INDEX "secrets_key_id_idx" ON "secrets" USING btree ("key_id");--> statement-breakpoint
CREATE INDEX "service_tokens_status_idx" ON "service_tokens" USING btree ("status");--> statement-breakpoint
CREATE INDEX "service_tokens_service_name_idx" ON "service_tokens" USING btree ("service_name");