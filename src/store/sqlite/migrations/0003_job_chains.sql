-- Per-chat order as linked lists (store/sqlite/chain-order.ts). This step only adds: an older binary
-- on the same file (a canary) never reads these and keeps its jobs_chain index. Switching a database
-- to the lists (and dropping jobs_chain) is a separate step: fresh databases take it at creation,
-- existing ones with `tgwh migrate --chain-list` once no older binary runs on them.
CREATE TABLE `job_chains` (
	`order_key` text PRIMARY KEY NOT NULL,
	`tail_id` integer NOT NULL,
	`tail_seq` integer NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `jobs` ADD `prev_id` integer;--> statement-breakpoint
CREATE INDEX `jobs_next` ON `jobs` (`prev_id`) WHERE prev_id IS NOT NULL AND state = 'pending';
