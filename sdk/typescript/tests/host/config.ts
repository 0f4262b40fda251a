// The fake `flowtrace:plugin/config@0.1.0` of the SDK's unit tests: tests set `values`.
export type ConfigValue =
  | { tag: "text"; val: string }
  | { tag: "integer"; val: bigint }
  | { tag: "float"; val: number }
  | { tag: "boolean"; val: boolean }
  | { tag: "text-list"; val: string[] };

export const values = new Map<string, ConfigValue>();

export function get(key: string): ConfigValue | undefined {
  return values.get(key);
}

export function keys(): string[] {
  return [...values.keys()];
}
