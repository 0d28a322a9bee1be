CREATE TABLE "lark_chat" (
	"installation_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"lark_chat_id" text NOT NULL,
	"name" text,
	"chat_mode" text,
	"bot_present" boolean DEFAULT true NOT NULL,
	"fetched_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_chat_installation_id_lark_chat_id_pk" PRIMARY KEY("installation_id","lark_chat_id"),
	CONSTRAINT "lark_chat_name_len" CHECK ("lark_chat"."name" IS NULL OR char_length("lark_chat"."name") <= 200)
);
--> statement-breakpoint
CREATE TABLE "lark_stream_card" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"task_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"part" integer NOT NULL,
	"card_id" text NOT NULL,
	"lark_message_id" text,
	"state" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "lark_stream_card_part_unique" UNIQUE("task_id","attempt","part"),
	CONSTRAINT "lark_stream_card_card_unique" UNIQUE("card_id"),
	CONSTRAINT "lark_stream_card_state_valid" CHECK ("lark_stream_card"."state" IN ('open', 'finished', 'interrupted')),
	CONSTRAINT "lark_stream_card_part_nonneg" CHECK ("lark_stream_card"."part" >= 0 AND "lark_stream_card"."attempt" >= 0),
	CONSTRAINT "lark_stream_card_closed_when_not_open" CHECK (("lark_stream_card"."state" = 'open') = ("lark_stream_card"."closed_at" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "lark_chat_session_binding" DROP CONSTRAINT "lark_chat_session_binding_chat_unique";--> statement-breakpoint
ALTER TABLE "agent_task" DROP CONSTRAINT "agent_task_status_valid";--> statement-breakpoint
ALTER TABLE "lark_outbox" DROP CONSTRAINT "lark_outbox_kind_valid";--> statement-breakpoint
ALTER TABLE "workspace" ADD COLUMN "lark_locale" text DEFAULT 'auto' NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_message" ADD COLUMN "recalled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_message" ADD COLUMN "end_reason" text;--> statement-breakpoint
ALTER TABLE "agent_task" ADD COLUMN "cancel_reason" text;--> statement-breakpoint
ALTER TABLE "lark_chat_session_binding" ADD COLUMN "lark_thread_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "lark_chat_session_binding" ADD COLUMN "closed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD COLUMN "typing_reaction_id" text;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD COLUMN "recalled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "lark_outbox" ADD COLUMN "task_id" uuid;--> statement-breakpoint
ALTER TABLE "lark_user_binding" ADD COLUMN "lark_name" text;--> statement-breakpoint
ALTER TABLE "lark_chat" ADD CONSTRAINT "lark_chat_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_stream_card" ADD CONSTRAINT "lark_stream_card_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_stream_card" ADD CONSTRAINT "lark_stream_card_task_fk" FOREIGN KEY ("task_id") REFERENCES "public"."agent_task"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lark_chat_session_binding_chat_unique" ON "lark_chat_session_binding" USING btree ("installation_id","lark_chat_id","lark_thread_id") WHERE "lark_chat_session_binding"."closed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "lark_outbox_task_idx" ON "lark_outbox" USING btree ("task_id") WHERE "lark_outbox"."task_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "workspace" ADD CONSTRAINT "workspace_lark_locale_valid" CHECK ("workspace"."lark_locale" IN ('auto', 'en', 'zh-Hans', 'ja', 'ko'));--> statement-breakpoint
ALTER TABLE "chat_message" ADD CONSTRAINT "chat_message_end_reason_valid" CHECK ("chat_message"."end_reason" IS NULL OR "chat_message"."end_reason" IN ('stopped'));--> statement-breakpoint
ALTER TABLE "agent_task" ADD CONSTRAINT "agent_task_cancel_reason_valid" CHECK (("agent_task"."status" = 'cancelled') = ("agent_task"."cancel_reason" IS NOT NULL) AND ("agent_task"."cancel_reason" IS NULL OR "agent_task"."cancel_reason" IN ('stopped', 'recalled')));--> statement-breakpoint
ALTER TABLE "agent_task" ADD CONSTRAINT "agent_task_status_valid" CHECK ("agent_task"."status" IN ('queued', 'running', 'completed', 'failed', 'cancelled'));--> statement-breakpoint
ALTER TABLE "lark_outbox" ADD CONSTRAINT "lark_outbox_kind_valid" CHECK ("lark_outbox"."kind" IN ('agent_reply', 'agent_error', 'agent_stopped', 'binding_prompt', 'agent_offline', 'agent_archived', 'issue_created', 'issue_usage', 'retract_answer', 'bot_intro', 'web_question', 'session_reset', 'unbind_confirm', 'unbound', 'command_usage'));