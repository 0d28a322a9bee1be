CREATE TABLE "attachment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"chat_message_id" uuid,
	"task_id" uuid,
	"source" text DEFAULT 'message' NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"kind" text NOT NULL,
	"file_name" text,
	"content_type" text,
	"size_bytes" bigint,
	"duration_ms" integer,
	"state" text DEFAULT 'pending' NOT NULL,
	"failure" text,
	"storage" text DEFAULT 'postgres' NOT NULL,
	"lark_message_id" text,
	"lark_file_key" text,
	"lark_resource_type" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stored_at" timestamp with time zone,
	CONSTRAINT "attachment_id_workspace_unique" UNIQUE("id","workspace_id"),
	CONSTRAINT "attachment_position_unique" UNIQUE("chat_message_id","source","position"),
	CONSTRAINT "attachment_owner_present" CHECK ("attachment"."chat_message_id" IS NOT NULL OR "attachment"."task_id" IS NOT NULL),
	CONSTRAINT "attachment_source_valid" CHECK ("attachment"."source" IN ('message', 'quoted', 'forwarded', 'agent')),
	CONSTRAINT "attachment_kind_valid" CHECK ("attachment"."kind" IN ('image', 'file', 'audio', 'video', 'sticker')),
	CONSTRAINT "attachment_state_valid" CHECK ("attachment"."state" IN ('pending', 'stored', 'failed')),
	CONSTRAINT "attachment_failure_valid" CHECK (("attachment"."state" = 'failed') = ("attachment"."failure" IS NOT NULL) AND ("attachment"."failure" IS NULL OR "attachment"."failure" IN ('too_large', 'not_found', 'forbidden', 'not_downloadable', 'download_failed'))),
	CONSTRAINT "attachment_stored_has_bytes" CHECK ("attachment"."state" <> 'stored' OR ("attachment"."content_type" IS NOT NULL AND "attachment"."size_bytes" IS NOT NULL AND "attachment"."stored_at" IS NOT NULL)),
	CONSTRAINT "attachment_storage_valid" CHECK ("attachment"."storage" IN ('postgres', 's3')),
	CONSTRAINT "attachment_size_nonneg" CHECK ("attachment"."size_bytes" IS NULL OR "attachment"."size_bytes" >= 0),
	CONSTRAINT "attachment_position_nonneg" CHECK ("attachment"."position" >= 0 AND "attachment"."attempts" >= 0),
	CONSTRAINT "attachment_name_len" CHECK ("attachment"."file_name" IS NULL OR char_length("attachment"."file_name") BETWEEN 1 AND 255),
	CONSTRAINT "attachment_lark_type_valid" CHECK ("attachment"."lark_resource_type" IS NULL OR "attachment"."lark_resource_type" IN ('image', 'file'))
);
--> statement-breakpoint
CREATE TABLE "attachment_chunk" (
	"attachment_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	CONSTRAINT "attachment_chunk_attachment_id_seq_pk" PRIMARY KEY("attachment_id","seq"),
	CONSTRAINT "attachment_chunk_seq_nonneg" CHECK ("attachment_chunk"."seq" >= 0),
	CONSTRAINT "attachment_chunk_size" CHECK (octet_length("attachment_chunk"."bytes") BETWEEN 1 AND 1048576)
);
--> statement-breakpoint
CREATE TABLE "lark_uploaded_media" (
	"installation_id" uuid NOT NULL,
	"workspace_id" uuid NOT NULL,
	"source_key" text NOT NULL,
	"kind" text NOT NULL,
	"lark_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_uploaded_media_installation_id_source_key_kind_pk" PRIMARY KEY("installation_id","source_key","kind"),
	CONSTRAINT "lark_uploaded_media_kind_valid" CHECK ("lark_uploaded_media"."kind" IN ('image', 'file'))
);
--> statement-breakpoint
ALTER TABLE "chat_message" ADD COLUMN "attachment_count" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_message" ADD COLUMN "agent_context" jsonb;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD COLUMN "lark_parent_id" text;--> statement-breakpoint
ALTER TABLE "lark_inbound_message" ADD COLUMN "lark_message_type" text;--> statement-breakpoint
ALTER TABLE "lark_inbound_message_dedup" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "chat_message" ADD CONSTRAINT "chat_message_id_workspace_unique" UNIQUE("id","workspace_id");--> statement-breakpoint
ALTER TABLE "agent_task" ADD CONSTRAINT "agent_task_id_workspace_unique" UNIQUE("id","workspace_id");--> statement-breakpoint
ALTER TABLE "attachment" ADD CONSTRAINT "attachment_workspace_id_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspace"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachment" ADD CONSTRAINT "attachment_message_fk" FOREIGN KEY ("chat_message_id","workspace_id") REFERENCES "public"."chat_message"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachment" ADD CONSTRAINT "attachment_task_fk" FOREIGN KEY ("task_id","workspace_id") REFERENCES "public"."agent_task"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attachment_chunk" ADD CONSTRAINT "attachment_chunk_attachment_fk" FOREIGN KEY ("attachment_id","workspace_id") REFERENCES "public"."attachment"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_uploaded_media" ADD CONSTRAINT "lark_uploaded_media_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attachment_message_idx" ON "attachment" USING btree ("chat_message_id","position");--> statement-breakpoint
CREATE INDEX "attachment_task_idx" ON "attachment" USING btree ("task_id") WHERE "attachment"."task_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_message" ADD CONSTRAINT "chat_message_attachment_count_nonneg" CHECK ("chat_message"."attachment_count" >= 0);--> statement-breakpoint
ALTER TABLE "chat_message" ADD CONSTRAINT "chat_message_context_size" CHECK ("chat_message"."agent_context" IS NULL OR octet_length("chat_message"."agent_context"::text) <= 262144);