/**
 * Job states and account roles: the values both engines' schemas (sqlite/schema.ts and
 * postgres/schema.ts) store in `jobs.state` and `service_accounts.role`.
 *
 * Job states (who moves a job out of each one, and when it goes away):
 * - pending: waiting for run_at and, when it has an order_key, for its turn (`ready = 1`).
 *   A worker's claim moves it to running.
 * - running: leased by lease_owner until lease_until. The worker that holds the lease moves it to
 *   done, discarded, dead or back to pending (retry). When the lease expires (crash, kill -9) the
 *   next claim round of any worker moves it back to pending, or to dead when its attempts are used up.
 * - done: the handler succeeded. Never run again. Pruned by retention after the window (default
 *   7 days, never under 24 h: the row is also the update_id's dedupe record).
 * - discarded: the handler failed in a way retrying cannot fix (a 403 from a user who blocked the
 *   bot, a 400 "chat not found", a payload that is not JSON); last_error and errors say why.
 *   Never run again, nobody moves it out; pruned by retention like done, and its dedupe_key holds
 *   until then, so a redelivered update is still a duplicate.
 * - dead: attempts exhausted (or its lease expired on the last attempt); last_error and errors
 *   keep why. An operator's retry moves it back to pending. Kept until an operator acts.
 *
 * There is no `cancelled`: nothing cancels a job (no API route, CLI command or handler outcome
 * does), and a state that nothing enters would only be one more value for every query, metric and
 * filter to carry. A cancel action would add it, with a migration, the way discarded was added.
 */
export const JOB_STATES = ["pending", "running", "done", "discarded", "dead"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Finished for good: never claimed again, pruned by retention after the window. */
export const PRUNED_STATES = ["done", "discarded"] as const satisfies readonly JobState[];

export const ROLES = ["viewer", "operator", "admin", "service"] as const;
export type Role = (typeof ROLES)[number];
