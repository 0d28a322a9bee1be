CREATE TABLE "invitation" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"email" text,
	"role" text NOT NULL,
	"created_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by_user_id" text,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "invitation_token_hash_format" CHECK ("invitation"."token_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "invitation_role_valid" CHECK ("invitation"."role" IN ('admin', 'member')),
	CONSTRAINT "invitation_email_format" CHECK ("invitation"."email" IS NULL OR ("invitation"."email" = lower("invitation"."email") AND "invitation"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND char_length("invitation"."email") <= 254)),
	CONSTRAINT "invitation_expiry_window" CHECK ("invitation"."expires_at" > "invitation"."created_at" AND "invitation"."expires_at" <= "invitation"."created_at" + interval '30 days'),
	CONSTRAINT "invitation_one_outcome" CHECK ("invitation"."accepted_at" IS NULL OR "invitation"."revoked_at" IS NULL),
	CONSTRAINT "invitation_acceptor_needs_acceptance" CHECK ("invitation"."accepted_by_user_id" IS NULL OR "invitation"."accepted_at" IS NOT NULL)
);
--> statement-breakpoint
ALTER TABLE "invitation" ADD CONSTRAINT "invitation_workspace_id_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspace"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation" ADD CONSTRAINT "invitation_created_by_user_id_user_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitation" ADD CONSTRAINT "invitation_accepted_by_user_id_user_id_fk" FOREIGN KEY ("accepted_by_user_id") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "invitation_token_hash_unique" ON "invitation" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "invitation_workspace_id_created_at_index" ON "invitation" USING btree ("workspace_id","created_at");