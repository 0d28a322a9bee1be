CREATE TABLE "lark_inbound_message" (
	"chat_message_id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"lark_message_id" text NOT NULL,
	"lark_chat_id" text NOT NULL,
	"lark_thread_id" text,
	"lark_root_id" text,
	"sender_open_id" text NOT NULL,
	CONSTRAINT "lark_inbound_message_lark_id_unique" UNIQUE("installation_id","lark_message_id")
);
--> statement-breakpoint
CREATE TABLE "lark_outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"receive_id_type" text,
	"receive_id" text,
	"reply_to_message_id" text,
	"reply_in_thread" boolean DEFAULT false NOT NULL,
	"lark_open_id" text,
	"body" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sending_until" timestamp with time zone,
	"parts_sent" integer DEFAULT 0 NOT NULL,
	"lark_message_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"last_error_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "lark_outbox_kind_valid" CHECK ("lark_outbox"."kind" IN ('agent_reply', 'agent_error', 'binding_prompt', 'agent_offline', 'agent_archived', 'issue_created', 'issue_usage')),
	CONSTRAINT "lark_outbox_status_valid" CHECK ("lark_outbox"."status" IN ('pending', 'sent', 'failed', 'skipped')),
	CONSTRAINT "lark_outbox_target" CHECK (("lark_outbox"."receive_id_type" IS NOT NULL AND "lark_outbox"."receive_id" IS NOT NULL) OR "lark_outbox"."reply_to_message_id" IS NOT NULL),
	CONSTRAINT "lark_outbox_receive_id_type_valid" CHECK ("lark_outbox"."receive_id_type" IS NULL OR "lark_outbox"."receive_id_type" IN ('chat_id', 'open_id')),
	CONSTRAINT "lark_outbox_prompt_has_user" CHECK ("lark_outbox"."kind" <> 'binding_prompt' OR "lark_outbox"."lark_open_id" IS NOT NULL),
	CONSTRAINT "lark_outbox_failed_has_error" CHECK ("lark_outbox"."status" <> 'failed' OR "lark_outbox"."last_error" IS NOT NULL)
);
--> statement-breakpoint
ALTER TABLE "lark_binding_token" ADD COLUMN "outbox_id" uuid;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD CONSTRAINT "lark_inbound_message_chat_message_id_chat_message_id_fk" FOREIGN KEY ("chat_message_id") REFERENCES "public"."chat_message"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD CONSTRAINT "lark_inbound_message_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_outbox" ADD CONSTRAINT "lark_outbox_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lark_outbox_pending_idx" ON "lark_outbox" USING btree ("created_at") WHERE "lark_outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "lark_outbox_installation_id_created_at_index" ON "lark_outbox" USING btree ("installation_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "lark_outbox_one_pending_prompt" ON "lark_outbox" USING btree ("installation_id","lark_open_id") WHERE "lark_outbox"."kind" = 'binding_prompt' AND "lark_outbox"."status" = 'pending';