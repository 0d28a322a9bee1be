CREATE TABLE "worker_node" (
	"node_id" text PRIMARY KEY NOT NULL,
	"boot_id" uuid NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "worker_node_id_len" CHECK (char_length("worker_node"."node_id") BETWEEN 1 AND 200)
);
--> statement-breakpoint
ALTER TABLE "chat_message" DROP CONSTRAINT "chat_message_content_len";--> statement-breakpoint
ALTER TABLE "lark_inbound_audit" DROP CONSTRAINT "lark_inbound_audit_reason_valid";--> statement-breakpoint
ALTER TABLE "lark_registration_session" DROP CONSTRAINT "lark_registration_session_installation_fk";
--> statement-breakpoint
ALTER TABLE "agent_task" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agent_task" ADD COLUMN "error_detail" text;--> statement-breakpoint
ALTER TABLE "lark_inbound_message_dedup" ADD COLUMN "attempts" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "lark_registration_session" ADD CONSTRAINT "lark_registration_session_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_message" ADD CONSTRAINT "chat_message_content_len" CHECK (char_length("chat_message"."content") <= 150000);--> statement-breakpoint
ALTER TABLE "lark_inbound_audit" ADD CONSTRAINT "lark_inbound_audit_reason_valid" CHECK ("lark_inbound_audit"."drop_reason" IN ('invalid_event', 'revoked_installation', 'duplicate', 'not_addressed_in_group', 'non_workspace_member', 'unsupported_event', 'unbound_user', 'dispatch_failed'));