CREATE TABLE "market_alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"type" text NOT NULL,
	"value" double precision NOT NULL,
	"fired_at" timestamp with time zone,
	"fired_value" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "market_alerts" ADD CONSTRAINT "market_alerts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "market_alerts_user_id_id_idx" ON "market_alerts" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "market_alerts_armed_idx" ON "market_alerts" USING btree ("symbol","timeframe") WHERE "market_alerts"."fired_at" is null;