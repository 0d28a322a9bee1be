CREATE TABLE "task_runner" (
	"runner_id" text PRIMARY KEY NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_runner_id_len" CHECK (char_length("task_runner"."runner_id") BETWEEN 1 AND 200)
);
