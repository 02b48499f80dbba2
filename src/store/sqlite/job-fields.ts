import { getTableColumns } from "drizzle-orm";
import { jobs } from "./schema";

/** The job columns callers see (rows.ts `Job`): prev_id is the list mode's link, an engine detail. */
export const { prevId: _chainLink, ...JOB_FIELDS } = getTableColumns(jobs);
