DROP INDEX "lark_outbox_pending_idx";--> statement-breakpoint
ALTER TABLE "lark_outbox" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "agent_task_queued_session_seq" ON "agent_task" USING btree ("session_id","seq") WHERE "agent_task"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "agent_task_queued_workspace_seq" ON "agent_task" USING btree ("workspace_id","seq") WHERE "agent_task"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "agent_task_running_workspace" ON "agent_task" USING btree ("workspace_id") WHERE "agent_task"."status" = 'running';--> statement-breakpoint
CREATE INDEX "lark_outbox_due_idx" ON "lark_outbox" USING btree ("next_attempt_at") WHERE "lark_outbox"."status" = 'pending';--> statement-breakpoint
-- Every new outbox row wakes the deliverers when its transaction commits, whatever statement wrote it.
CREATE FUNCTION lark_outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('larkspur_outbox', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER lark_outbox_wake AFTER INSERT ON lark_outbox FOR EACH STATEMENT EXECUTE FUNCTION lark_outbox_wake();
