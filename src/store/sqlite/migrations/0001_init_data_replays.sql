CREATE TABLE `init_data_replays` (
	`hash` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `init_data_replays_expires` ON `init_data_replays` (`expires_at`);