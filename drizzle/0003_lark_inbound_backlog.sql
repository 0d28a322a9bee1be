CREATE TABLE "lark_inbound_backlog" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"installation_id" uuid NOT NULL,
	"app_id" text NOT NULL,
	"payload" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "lark_inbound_backlog_attempts_nonneg" CHECK ("lark_inbound_backlog"."attempts" >= 0)
);
--> statement-breakpoint
ALTER TABLE "lark_inbound_backlog" ADD CONSTRAINT "lark_inbound_backlog_installation_id_lark_installation_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."lark_installation"("id") ON DELETE cascade ON UPDATE no action;