CREATE TABLE "cluster_instances" (
	"id" text PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"leads" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"upstreams" integer DEFAULT 0 NOT NULL,
	"bus_lag_ms" integer
);
