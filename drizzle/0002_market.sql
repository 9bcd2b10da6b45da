CREATE TABLE "market_candles" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"open_time" bigint NOT NULL,
	"close_time" bigint NOT NULL,
	"open" double precision NOT NULL,
	"high" double precision NOT NULL,
	"low" double precision NOT NULL,
	"close" double precision NOT NULL,
	"volume" double precision NOT NULL,
	"trades" integer DEFAULT 0 NOT NULL,
	"indicators" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "market_positions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"strategy_id" bigint NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"entry_price" double precision NOT NULL,
	"quantity" double precision NOT NULL,
	"take_profit_price" double precision NOT NULL,
	"stop_loss_price" double precision NOT NULL,
	"opened_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "market_strategies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"rule" jsonb NOT NULL,
	"position_size" double precision NOT NULL,
	"take_profit_pct" double precision NOT NULL,
	"stop_loss_pct" double precision NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "market_trades" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"strategy_id" bigint,
	"strategy_name" text NOT NULL,
	"symbol" text NOT NULL,
	"timeframe" text NOT NULL,
	"entry_price" double precision NOT NULL,
	"exit_price" double precision NOT NULL,
	"quantity" double precision NOT NULL,
	"pnl" double precision NOT NULL,
	"pnl_pct" double precision NOT NULL,
	"reason" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "market_positions" ADD CONSTRAINT "market_positions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_positions" ADD CONSTRAINT "market_positions_strategy_id_market_strategies_id_fk" FOREIGN KEY ("strategy_id") REFERENCES "public"."market_strategies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_strategies" ADD CONSTRAINT "market_strategies_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_trades" ADD CONSTRAINT "market_trades_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_trades" ADD CONSTRAINT "market_trades_strategy_id_market_strategies_id_fk" FOREIGN KEY ("strategy_id") REFERENCES "public"."market_strategies"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "market_candles_series_open_idx" ON "market_candles" USING btree ("symbol","timeframe","open_time");--> statement-breakpoint
CREATE INDEX "market_positions_user_id_idx" ON "market_positions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "market_positions_strategy_idx" ON "market_positions" USING btree ("strategy_id");--> statement-breakpoint
CREATE INDEX "market_strategies_user_id_idx" ON "market_strategies" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "market_strategies_user_name_tf_idx" ON "market_strategies" USING btree ("user_id","name","timeframe");--> statement-breakpoint
CREATE INDEX "market_strategies_series_idx" ON "market_strategies" USING btree ("symbol","timeframe","enabled");--> statement-breakpoint
CREATE INDEX "market_trades_user_id_id_idx" ON "market_trades" USING btree ("user_id","id");