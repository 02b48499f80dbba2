/**
 * Builds a value on first use. Statements are prepared lazily so that a store opened without
 * migrating (`tgwh migrate --status`, `doctor`, `backup` on an older or empty file) can still
 * answer what it can: preparing a statement that names a missing table or index would fail.
 */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
