// The fake `flowtrace:plugin/embeddings@0.1.0` of the SDK's unit tests.
class ComponentError extends Error {
  payload: unknown;
  constructor(payload: unknown) {
    super(String(payload));
    this.payload = payload;
  }
}

export function dimension(): number {
  return 2;
}

export function embed(texts: string[]): Float32Array[] {
  if (texts.includes("down")) {
    throw new ComponentError({ tag: "unavailable", val: "the embedder is down" });
  }
  return texts.map((t) => new Float32Array([t.length, 1]));
}
