/** One generated migration as embedded in the binary (scripts/embed-migrations.ts), either dialect. */
export interface EmbeddedMigration {
  tag: string;
  /** drizzle-kit's journal time: the bookkeeping table records it, and later ones are pending. */
  when: number;
  breakpoints: boolean;
  sql: string;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}
