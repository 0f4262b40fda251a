// The fake `flowtrace:plugin/traces@0.1.0` of the SDK's unit tests.
export const queries: unknown[] = [];

export function get(_id: string): undefined {
  return undefined;
}

export function query(query: unknown): string[] {
  queries.push(query);
  return ["t2", "t1"];
}
