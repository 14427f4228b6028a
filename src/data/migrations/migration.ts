/** One versioned schema step, written once per dialect. Statements run in order, one at a time. */
export interface Migration {
  version: number;
  name: string;
  sqlite: readonly string[];
  mysql: readonly string[];
}
