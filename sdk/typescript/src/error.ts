/**
 * {@link PluginError} and its four kinds: why a plugin could not do its work.
 *
 * @module
 */

/**
 * The contract's kinds of plugin error (`plugin-error` in `types.wit`).
 *
 * ```ts
 * import { Unavailable, type PluginErrorKind } from "@flowtrace/plugin-sdk";
 *
 * const kind: PluginErrorKind = new Unavailable("down").kind; // "unavailable"
 * ```
 */
export type PluginErrorKind = "invalid-input" | "invalid-config" | "unavailable" | "failed";

/**
 * Why a plugin could not do its work; the host shows it with the plugin's id.
 *
 * Throw one from any plugin method (or return it from `evaluateBatch` in place of a
 * result). Throw the subclass that says what went wrong: {@link InvalidInput},
 * {@link InvalidConfig}, {@link Unavailable} or {@link Failed}. Messages in the house
 * style: lowercase, no trailing period, names in backticks.
 *
 * Anything else a plugin throws is reported to the host as a `failed` error with the
 * exception's name and message, and its stack goes to the plugin log.
 *
 * ```ts
 * import { InvalidInput, PluginError } from "@flowtrace/plugin-sdk";
 *
 * const err = new InvalidInput("the trace has no spans");
 * err instanceof PluginError; // true
 * err.kind; // "invalid-input"
 * String(err); // "invalid input: the trace has no spans"
 * ```
 */
export class PluginError extends Error {
  /** Which kind of error it is. */
  readonly kind: PluginErrorKind;

  /**
   * An error of `kind`; prefer the subclasses.
   *
   * ```ts
   * import { PluginError } from "@flowtrace/plugin-sdk";
   *
   * const err = new PluginError("unavailable", "the embedding service timed out");
   * ```
   */
  constructor(kind: PluginErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = "PluginError";
  }

  /**
   * The error for a value the host or another library threw: a `PluginError` as it is,
   * an `Error` as `failed` with its name and message, anything else as `failed` with its
   * text.
   *
   * ```ts
   * import { PluginError } from "@flowtrace/plugin-sdk";
   *
   * PluginError.from(new RangeError("bad index")).message; // "RangeError: bad index"
   * ```
   */
  static from(error: unknown): PluginError {
    if (error instanceof PluginError) return error;
    const payload = hostPayload(error);
    if (payload) return fromWire(payload);
    if (error instanceof Error) {
      return new Failed(`${error.name}: ${error.message}`);
    }
    return new Failed(String(error));
  }

  /**
   * The kind and the message, as the host shows them.
   *
   * ```ts
   * import { Unavailable } from "@flowtrace/plugin-sdk";
   *
   * String(new Unavailable("down")); // "unavailable: down"
   * ```
   */
  override toString(): string {
    return this.kind === "failed" ? this.message : `${this.kind.replace("-", " ")}: ${this.message}`;
  }
}

/**
 * The trace or texts given to the plugin are not usable by it.
 *
 * ```ts
 * import { InvalidInput } from "@flowtrace/plugin-sdk";
 *
 * throw new InvalidInput("no root span");
 * ```
 */
export class InvalidInput extends PluginError {
  /** An `invalid-input` error. */
  constructor(message: string) {
    super("invalid-input", message);
    this.name = "InvalidInput";
  }
}

/**
 * The plugin's configuration is wrong (what `config.get` throws for a value of the
 * wrong type).
 *
 * ```ts
 * import { InvalidConfig } from "@flowtrace/plugin-sdk";
 *
 * throw new InvalidConfig("`threshold` must be between 0 and 1");
 * ```
 */
export class InvalidConfig extends PluginError {
  /** An `invalid-config` error. */
  constructor(message: string) {
    super("invalid-config", message);
    this.name = "InvalidConfig";
  }
}

/**
 * A service the plugin relies on (network, embeddings, storage) failed.
 *
 * ```ts
 * import { Unavailable } from "@flowtrace/plugin-sdk";
 *
 * throw new Unavailable("the scoring service answered 503");
 * ```
 */
export class Unavailable extends PluginError {
  /** An `unavailable` error. */
  constructor(message: string) {
    super("unavailable", message);
    this.name = "Unavailable";
  }
}

/**
 * Anything else.
 *
 * ```ts
 * import { Failed } from "@flowtrace/plugin-sdk";
 *
 * throw new Failed("unsupported format `xml`");
 * ```
 */
export class Failed extends PluginError {
  /** A `failed` error. */
  constructor(message: string) {
    super("failed", message);
    this.name = "Failed";
  }
}

/** The contract's shape of a plugin error. Internal: not exported by the package. */
export interface WirePluginError {
  tag: PluginErrorKind;
  val: string;
}

/** The error as the contract carries it. Internal. */
export function toWire(error: PluginError): WirePluginError {
  return { tag: error.kind, val: error.message };
}

/** The error the contract carried. Internal. */
export function fromWire(error: WirePluginError): PluginError {
  switch (error.tag) {
    case "invalid-input":
      return new InvalidInput(error.val);
    case "invalid-config":
      return new InvalidConfig(error.val);
    case "unavailable":
      return new Unavailable(error.val);
    default:
      return new Failed(String(error.val));
  }
}

/** The `plugin-error` an import's failed `result` was thrown with, if `error` is one. */
export function hostPayload(error: unknown): WirePluginError | undefined {
  if (typeof error !== "object" || error === null || !("payload" in error)) return undefined;
  const payload = (error as { payload: unknown }).payload;
  if (typeof payload !== "object" || payload === null) return undefined;
  const { tag, val } = payload as { tag?: unknown; val?: unknown };
  const kinds: readonly unknown[] = ["invalid-input", "invalid-config", "unavailable", "failed"];
  return kinds.includes(tag) && typeof val === "string"
    ? { tag: tag as PluginErrorKind, val }
    : undefined;
}
