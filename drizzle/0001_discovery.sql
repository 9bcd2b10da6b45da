CREATE TABLE "discovery_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "discovery_scans" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"triggered_by" text NOT NULL,
	"max_tokens" integer NOT NULL,
	"chain" text,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"candidates" integer DEFAULT 0 NOT NULL,
	"new_tokens" integer DEFAULT 0 NOT NULL,
	"updated_tokens" integer DEFAULT 0 NOT NULL,
	"safe" integer DEFAULT 0 NOT NULL,
	"risky" integer DEFAULT 0 NOT NULL,
	"unverified" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "discovery_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"auto_active" boolean NOT NULL,
	"interval_seconds" integer NOT NULL,
	"max_tokens" integer NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "discovery_settings_single_row" CHECK ("discovery_settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain" text NOT NULL,
	"address" text NOT NULL,
	"name" text NOT NULL,
	"symbol" text NOT NULL,
	"price_usd" double precision,
	"liquidity_usd" double precision,
	"volume24h_usd" double precision,
	"fdv_usd" double precision,
	"pair_created_at" timestamp with time zone,
	"url" text,
	"icon_url" text,
	"risk_score" integer NOT NULL,
	"is_safe" boolean NOT NULL,
	"verified" boolean NOT NULL,
	"risks" jsonb NOT NULL,
	"discovered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_scan_id" bigint
);
--> statement-breakpoint
CREATE INDEX "discovery_scans_started_at_idx" ON "discovery_scans" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "tokens_chain_address_idx" ON "tokens" USING btree ("chain","address");--> statement-breakpoint
CREATE INDEX "tokens_discovered_at_idx" ON "tokens" USING btree ("discovered_at","id");