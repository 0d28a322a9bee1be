-- Rows from before the check: a finished task gets a finish time, an unfinished one loses any.
UPDATE "agent_task" SET "finished_at" = COALESCE("started_at", "created_at") WHERE "status" NOT IN ('queued', 'running') AND "finished_at" IS NULL;--> statement-breakpoint
UPDATE "agent_task" SET "finished_at" = NULL WHERE "status" IN ('queued', 'running') AND "finished_at" IS NOT NULL;--> statement-breakpoint
DROP INDEX "agent_task_queued_seq";--> statement-breakpoint
DROP INDEX "agent_task_queued_session_seq";--> statement-breakpoint
DROP INDEX "agent_task_one_running_per_session";--> statement-breakpoint
DROP INDEX "agent_task_running_workspace";--> statement-breakpoint
CREATE INDEX "agent_task_unfinished_session_seq" ON "agent_task" USING btree ("session_id","seq") WHERE "agent_task"."finished_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_task_one_running_per_session" ON "agent_task" USING btree ("session_id") WHERE "agent_task"."status" = 'running' AND "agent_task"."finished_at" IS NULL;--> statement-breakpoint
CREATE INDEX "agent_task_running_workspace" ON "agent_task" USING btree ("workspace_id") WHERE "agent_task"."status" = 'running' AND "agent_task"."finished_at" IS NULL;--> statement-breakpoint
ALTER TABLE "agent_task" ADD CONSTRAINT "agent_task_finished_when_done" CHECK (("agent_task"."status" IN ('queued', 'running')) = ("agent_task"."finished_at" IS NULL));--> statement-breakpoint
-- The planner is not to learn how many outbox rows wait: that share changes by the second, and
-- statistics taken while few did made the index on waiting rows look empty, cheaper than the primary
-- key, so each part's bookkeeping read every waiting row. With no statistics on the column, a status
-- matches a small fixed share of the table. Re-setting the column's type (no rewrite) drops the
-- statistics taken before.
ALTER TABLE "lark_outbox" ALTER COLUMN "status" SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE "lark_outbox" ALTER COLUMN "status" TYPE text;
