-- Hand-edited after generation: each composite foreign key clears only its own column on delete
-- (PostgreSQL 15+); workspace_id is NOT NULL and shared by all of them.
ALTER TABLE "issue" ADD COLUMN "assignee_user_id" text;--> statement-breakpoint
ALTER TABLE "issue" ADD COLUMN "assignee_agent_id" uuid;--> statement-breakpoint
ALTER TABLE "issue" ADD COLUMN "origin_chat_session_id" uuid;--> statement-breakpoint
ALTER TABLE "issue" ADD COLUMN "origin_lark_installation_id" uuid;--> statement-breakpoint
ALTER TABLE "issue" ADD COLUMN "origin_lark_chat_id" text;--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_assignee_member_fk" FOREIGN KEY ("workspace_id","assignee_user_id") REFERENCES "public"."member"("workspace_id","user_id") ON DELETE SET NULL ("assignee_user_id") ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_assignee_agent_fk" FOREIGN KEY ("assignee_agent_id","workspace_id") REFERENCES "public"."agent"("id","workspace_id") ON DELETE SET NULL ("assignee_agent_id") ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_origin_chat_session_fk" FOREIGN KEY ("origin_chat_session_id","workspace_id") REFERENCES "public"."chat_session"("id","workspace_id") ON DELETE SET NULL ("origin_chat_session_id") ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_origin_lark_installation_fk" FOREIGN KEY ("origin_lark_installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE SET NULL ("origin_lark_installation_id") ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "issue_assignee_user_idx" ON "issue" USING btree ("workspace_id","assignee_user_id") WHERE "issue"."assignee_user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "issue_assignee_agent_idx" ON "issue" USING btree ("assignee_agent_id") WHERE "issue"."assignee_agent_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "issue_origin_chat_session_idx" ON "issue" USING btree ("origin_chat_session_id") WHERE "issue"."origin_chat_session_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "issue_origin_lark_installation_idx" ON "issue" USING btree ("origin_lark_installation_id") WHERE "issue"."origin_lark_installation_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_one_assignee" CHECK ("issue"."assignee_user_id" IS NULL OR "issue"."assignee_agent_id" IS NULL);--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_lark_origin_only_for_lark" CHECK ("issue"."origin_type" = 'lark_chat' OR ("issue"."origin_chat_session_id" IS NULL AND "issue"."origin_lark_installation_id" IS NULL AND "issue"."origin_lark_chat_id" IS NULL));--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_lark_chat_with_installation" CHECK ("issue"."origin_lark_installation_id" IS NULL OR "issue"."origin_lark_chat_id" IS NOT NULL);--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_lark_chat_id_len" CHECK (char_length("issue"."origin_lark_chat_id") BETWEEN 1 AND 200);