// The fake `flowtrace:plugin/kv@0.1.0` of the SDK's unit tests: a map with a quota.
export const store = new Map<string, Uint8Array>();
export const quota = { bytes: 64 };

class ComponentError extends Error {
  payload: string;
  constructor(payload: string) {
    super(payload);
    this.payload = payload;
  }
}

export function get(key: string): Uint8Array | undefined {
  return store.get(key);
}

export function set(key: string, value: Uint8Array): void {
  if (value.length > quota.bytes) throw new ComponentError("quota of 64 bytes exceeded");
  store.set(key, value);
}

function remove(key: string): void {
  store.delete(key);
}
export { remove as delete };

export function keys(prefix: string): string[] {
  return [...store.keys()].filter((k) => k.startsWith(prefix)).sort();
}
