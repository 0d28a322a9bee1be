CREATE TABLE "lark_binding_token" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"lark_open_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "lark_binding_token_ttl_cap" CHECK ("lark_binding_token"."expires_at" > "lark_binding_token"."created_at" AND "lark_binding_token"."expires_at" <= "lark_binding_token"."created_at" + interval '15 minutes'),
	CONSTRAINT "lark_binding_token_hash_format" CHECK ("lark_binding_token"."token_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "lark_chat_session_binding" (
	"chat_session_id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"lark_chat_id" text NOT NULL,
	"lark_chat_type" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_chat_session_binding_chat_unique" UNIQUE("installation_id","lark_chat_id"),
	CONSTRAINT "lark_chat_session_binding_type_valid" CHECK ("lark_chat_session_binding"."lark_chat_type" IN ('p2p', 'group'))
);
--> statement-breakpoint
CREATE TABLE "lark_inbound_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"installation_id" uuid,
	"lark_chat_id" text,
	"event_type" text NOT NULL,
	"lark_event_id" text,
	"lark_message_id" text,
	"drop_reason" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_inbound_audit_reason_valid" CHECK ("lark_inbound_audit"."drop_reason" IN ('invalid_event', 'revoked_installation', 'duplicate', 'not_addressed_in_group', 'non_workspace_member', 'unsupported_event'))
);
--> statement-breakpoint
CREATE TABLE "lark_inbound_message_dedup" (
	"installation_id" uuid NOT NULL,
	"message_id" text NOT NULL,
	"claim_token" uuid NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "lark_inbound_message_dedup_installation_id_message_id_pk" PRIMARY KEY("installation_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "lark_installation" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"app_id" text NOT NULL,
	"app_secret_ciphertext" text NOT NULL,
	"tenant_key" text,
	"bot_open_id" text NOT NULL,
	"bot_union_id" text,
	"region" text DEFAULT 'feishu' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"installer_user_id" text NOT NULL,
	"ws_lease_token" text,
	"ws_lease_expires_at" timestamp with time zone,
	"connection_state" text DEFAULT 'disconnected' NOT NULL,
	"last_event_at" timestamp with time zone,
	"last_connected_at" timestamp with time zone,
	"installed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_installation_workspace_agent_unique" UNIQUE("workspace_id","agent_id"),
	CONSTRAINT "lark_installation_app_id_unique" UNIQUE("app_id"),
	CONSTRAINT "lark_installation_id_workspace_unique" UNIQUE("id","workspace_id"),
	CONSTRAINT "lark_installation_region_valid" CHECK ("lark_installation"."region" IN ('feishu', 'lark')),
	CONSTRAINT "lark_installation_status_valid" CHECK ("lark_installation"."status" IN ('active', 'revoked')),
	CONSTRAINT "lark_installation_connection_state_valid" CHECK ("lark_installation"."connection_state" IN ('disconnected', 'connecting', 'connected', 'backoff')),
	CONSTRAINT "lark_installation_lease_pair" CHECK (("lark_installation"."ws_lease_token" IS NULL) = ("lark_installation"."ws_lease_expires_at" IS NULL)),
	CONSTRAINT "lark_installation_app_id_format" CHECK ("lark_installation"."app_id" ~ '^cli_[A-Za-z0-9]+$')
);
--> statement-breakpoint
CREATE TABLE "lark_registration_session" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"initiator_user_id" text NOT NULL,
	"region" text NOT NULL,
	"brand_switched" boolean DEFAULT false NOT NULL,
	"device_code_ciphertext" text NOT NULL,
	"qr_code_url" text NOT NULL,
	"interval_seconds" integer NOT NULL,
	"next_poll_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"error_reason" text,
	"error_message" text,
	"installation_id" uuid,
	"poller_token" text,
	"poller_until" timestamp with time zone,
	"poll_attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_registration_session_status_valid" CHECK ("lark_registration_session"."status" IN ('pending', 'success', 'error')),
	CONSTRAINT "lark_registration_session_region_valid" CHECK ("lark_registration_session"."region" IN ('feishu', 'lark')),
	CONSTRAINT "lark_registration_session_interval_positive" CHECK ("lark_registration_session"."interval_seconds" > 0),
	CONSTRAINT "lark_registration_session_error_reason_valid" CHECK ("lark_registration_session"."error_reason" IS NULL OR "lark_registration_session"."error_reason" IN ('expired', 'access_denied', 'lark_protocol_error', 'bot_info_failed', 'installation_conflict', 'installer_bind_failed', 'internal_error')),
	CONSTRAINT "lark_registration_session_error_has_reason" CHECK ("lark_registration_session"."status" <> 'error' OR "lark_registration_session"."error_reason" IS NOT NULL),
	CONSTRAINT "lark_registration_session_success_has_installation" CHECK ("lark_registration_session"."status" <> 'success' OR "lark_registration_session"."installation_id" IS NOT NULL)
);
--> statement-breakpoint
CREATE TABLE "lark_user_binding" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"installation_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"lark_open_id" text NOT NULL,
	"lark_union_id" text,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lark_user_binding_installation_open_id_unique" UNIQUE("installation_id","lark_open_id")
);
--> statement-breakpoint
ALTER TABLE "issue" DROP CONSTRAINT "issue_origin_type_valid";--> statement-breakpoint
ALTER TABLE "lark_binding_token" ADD CONSTRAINT "lark_binding_token_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_chat_session_binding" ADD CONSTRAINT "lark_chat_session_binding_session_fk" FOREIGN KEY ("chat_session_id","workspace_id") REFERENCES "public"."chat_session"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_chat_session_binding" ADD CONSTRAINT "lark_chat_session_binding_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_inbound_audit" ADD CONSTRAINT "lark_inbound_audit_installation_id_lark_installation_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."lark_installation"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_inbound_message_dedup" ADD CONSTRAINT "lark_inbound_message_dedup_installation_id_lark_installation_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."lark_installation"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_installation" ADD CONSTRAINT "lark_installation_workspace_id_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspace"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_installation" ADD CONSTRAINT "lark_installation_installer_user_id_user_id_fk" FOREIGN KEY ("installer_user_id") REFERENCES "public"."user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_installation" ADD CONSTRAINT "lark_installation_agent_id_workspace_id_agent_id_workspace_id_fk" FOREIGN KEY ("agent_id","workspace_id") REFERENCES "public"."agent"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_registration_session" ADD CONSTRAINT "lark_registration_session_initiator_user_id_user_id_fk" FOREIGN KEY ("initiator_user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_registration_session" ADD CONSTRAINT "lark_registration_session_agent_id_workspace_id_agent_id_workspace_id_fk" FOREIGN KEY ("agent_id","workspace_id") REFERENCES "public"."agent"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_registration_session" ADD CONSTRAINT "lark_registration_session_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_user_binding" ADD CONSTRAINT "lark_user_binding_installation_fk" FOREIGN KEY ("installation_id","workspace_id") REFERENCES "public"."lark_installation"("id","workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lark_user_binding" ADD CONSTRAINT "lark_user_binding_member_fk" FOREIGN KEY ("workspace_id","user_id") REFERENCES "public"."member"("workspace_id","user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lark_binding_token_installation_id_lark_open_id_index" ON "lark_binding_token" USING btree ("installation_id","lark_open_id");--> statement-breakpoint
CREATE INDEX "lark_binding_token_expires_at_index" ON "lark_binding_token" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "lark_inbound_audit_installation_id_received_at_index" ON "lark_inbound_audit" USING btree ("installation_id","received_at");--> statement-breakpoint
CREATE INDEX "lark_inbound_message_dedup_received_at_index" ON "lark_inbound_message_dedup" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "lark_installation_active_idx" ON "lark_installation" USING btree ("created_at") WHERE "lark_installation"."status" = 'active';--> statement-breakpoint
CREATE INDEX "lark_registration_session_pending_idx" ON "lark_registration_session" USING btree ("next_poll_at") WHERE "lark_registration_session"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "lark_user_binding_workspace_id_user_id_index" ON "lark_user_binding" USING btree ("workspace_id","user_id");--> statement-breakpoint
ALTER TABLE "issue" ADD CONSTRAINT "issue_origin_type_valid" CHECK ("issue"."origin_type" IN ('web', 'lark_chat'));