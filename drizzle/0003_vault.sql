CREATE TABLE "vault_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"session_id" bigint,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_sessions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"label" text NOT NULL,
	"status" text NOT NULL,
	"secret_key_id" text NOT NULL,
	"secret_iv" text NOT NULL,
	"secret_tag" text NOT NULL,
	"secret_ciphertext" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"expires_at" timestamp with time zone,
	"last_refresh_at" timestamp with time zone,
	"last_error" text,
	"failures" integer DEFAULT 0 NOT NULL,
	"retry_after" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"active" boolean NOT NULL,
	"interval_minutes" integer NOT NULL,
	"last_run_at" timestamp with time zone,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vault_settings_single_row" CHECK ("vault_settings"."id" = 1)
);
--> statement-breakpoint
CREATE INDEX "vault_events_session_idx" ON "vault_events" USING btree ("session_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "vault_sessions_provider_label_idx" ON "vault_sessions" USING btree ("provider","label");