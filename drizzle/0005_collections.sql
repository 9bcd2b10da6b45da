CREATE TABLE "collection_cards" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"collection_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"front" text NOT NULL,
	"back" text DEFAULT '' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "collection_share_codes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"user_id" text NOT NULL,
	"collection_id" bigint NOT NULL,
	"owner_name" text NOT NULL,
	"uses" integer DEFAULT 0 NOT NULL,
	"max_uses" integer,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "collections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"card_count" integer DEFAULT 0 NOT NULL,
	"source_code" text,
	"source_collection_id" bigint,
	"source_owner_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "collection_cards" ADD CONSTRAINT "collection_cards_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_cards" ADD CONSTRAINT "collection_cards_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_share_codes" ADD CONSTRAINT "collection_share_codes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collection_share_codes" ADD CONSTRAINT "collection_share_codes_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "collection_cards_user_id_idx" ON "collection_cards" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "collection_cards_collection_position_idx" ON "collection_cards" USING btree ("collection_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "collection_share_codes_code_idx" ON "collection_share_codes" USING btree ("code");--> statement-breakpoint
CREATE INDEX "collection_share_codes_user_id_idx" ON "collection_share_codes" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "collection_share_codes_collection_idx" ON "collection_share_codes" USING btree ("collection_id");--> statement-breakpoint
CREATE INDEX "collections_user_id_id_idx" ON "collections" USING btree ("user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_user_source_code_idx" ON "collections" USING btree ("user_id","source_code");