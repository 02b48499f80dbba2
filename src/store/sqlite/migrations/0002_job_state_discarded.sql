-- A job that failed for good (a handler's permanent error) used to end done with its error kept;
-- it has its own state now. Successful jobs end with last_error NULL, so the error tells them apart.
UPDATE `jobs` SET `state` = 'discarded' WHERE `state` = 'done' AND `last_error` IS NOT NULL;--> statement-breakpoint
DROP INDEX `jobs_finished`;--> statement-breakpoint
CREATE INDEX `jobs_finished` ON `jobs` (`finished_at`) WHERE state = 'done' OR state = 'discarded';