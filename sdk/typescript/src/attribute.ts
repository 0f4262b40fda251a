/**
 * Span and trace attributes: {@link Attribute} and {@link AttributeValue}.
 *
 * @module
 */

/**
 * The contract's kinds of attribute value.
 *
 * ```ts
 * import { AttributeValue, type AttributeTag } from "@flowtrace/plugin-sdk";
 *
 * const tag: AttributeTag = AttributeValue.from(0.5).tag; // "float"
 * ```
 */
export type AttributeTag = "text" | "integer" | "float" | "boolean" | "json";

/**
 * A JSON value, as `JSON.parse` returns it: what a `json` attribute's `value` is.
 *
 * ```ts
 * import { AttributeValue, type JsonValue } from "@flowtrace/plugin-sdk";
 *
 * const parsed = AttributeValue.json('{"k":[1]}').value as JsonValue;
 * ```
 */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * What {@link AttributeValue.from} and {@link setAttribute} accept: a plain value or an
 * `AttributeValue`.
 *
 * ```ts
 * import type { AttributeInput } from "@flowtrace/plugin-sdk";
 *
 * const inputs: AttributeInput[] = ["openai", 3, 0.5, true, ["stop"], { k: 1 }];
 * ```
 */
export type AttributeInput =
  | string
  | number
  | bigint
  | boolean
  | AttributeValue
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * A typed attribute value: the OpenTelemetry `AnyValue` minus nesting. Arrays and maps
 * arrive as their JSON text (`tag` `json`).
 *
 * The kind is kept, so a transformer that copies a trace writes every attribute back
 * as it came (a float `1.0` stays a float). Read it with {@link AttributeValue.value} or
 * the `as*` methods; make one with {@link AttributeValue.from} or the static constructors.
 *
 * ```ts
 * import { AttributeValue } from "@flowtrace/plugin-sdk";
 *
 * const reasons = AttributeValue.json('["length"]');
 * reasons.toStringList(); // ["length"]
 * AttributeValue.integer(3).asNumber(); // 3
 * AttributeValue.from("gpt-4o").asString(); // "gpt-4o"
 * ```
 */
export class AttributeValue {
  /** Which kind of value it is. */
  readonly tag: AttributeTag;
  /** The value: a `string` for `text` and `json` (the JSON text), a `bigint` for
   * `integer`, a `number` for `float`, a `boolean` for `boolean`. */
  readonly raw: string | bigint | number | boolean;

  private constructor(tag: AttributeTag, raw: string | bigint | number | boolean) {
    this.tag = tag;
    this.raw = raw;
  }

  /**
   * A `text` value.
   *
   * ```ts
   * AttributeValue.text("openai").tag; // "text"
   * ```
   */
  static text(value: string): AttributeValue {
    return new AttributeValue("text", String(value));
  }

  /**
   * An `integer` value (a 64-bit signed integer).
   *
   * ```ts
   * AttributeValue.integer(42).raw; // 42n
   * ```
   */
  static integer(value: number | bigint): AttributeValue {
    return new AttributeValue("integer", BigInt.asIntN(64, BigInt(value)));
  }

  /**
   * A `float` value, also when it holds a whole number.
   *
   * ```ts
   * AttributeValue.float(1).tag; // "float"
   * ```
   */
  static float(value: number): AttributeValue {
    return new AttributeValue("float", Number(value));
  }

  /**
   * A `boolean` value.
   *
   * ```ts
   * AttributeValue.boolean(true).asBoolean(); // true
   * ```
   */
  static boolean(value: boolean): AttributeValue {
    return new AttributeValue("boolean", Boolean(value));
  }

  /**
   * A `json` value from its JSON text (an OpenTelemetry array or map).
   *
   * ```ts
   * AttributeValue.json('["stop"]').value; // ["stop"]
   * ```
   */
  static json(text: string): AttributeValue {
    return new AttributeValue("json", String(text));
  }

  /**
   * The value for a plain JavaScript value: a string is `text`, a bigint or a whole
   * number is `integer`, another number is `float`, a boolean is `boolean`, an array or
   * an object is `json` (written with `JSON.stringify`). An `AttributeValue` is returned
   * as it is.
   *
   * ```ts
   * AttributeValue.from(3).tag; // "integer"
   * AttributeValue.from(0.5).tag; // "float"
   * AttributeValue.from(["a", "b"]).raw; // '["a","b"]'
   * ```
   */
  static from(value: AttributeInput): AttributeValue {
    if (value instanceof AttributeValue) return value;
    switch (typeof value) {
      case "string":
        return AttributeValue.text(value);
      case "bigint":
        return AttributeValue.integer(value);
      case "number":
        return Number.isSafeInteger(value)
          ? AttributeValue.integer(value)
          : AttributeValue.float(value);
      case "boolean":
        return AttributeValue.boolean(value);
      default:
        return AttributeValue.json(JSON.stringify(value));
    }
  }

  /**
   * The value as plain JavaScript: `text` as a string, `integer` as a number (a bigint
   * when it does not fit a number exactly), `float` as a number, `boolean` as a boolean,
   * `json` parsed (the text itself when it is not valid JSON).
   *
   * ```ts
   * AttributeValue.integer(3).value; // 3
   * AttributeValue.json('{"k":1}').value; // { k: 1 }
   * ```
   */
  get value(): string | number | bigint | boolean | JsonValue {
    switch (this.tag) {
      case "integer":
        return toNumber(this.raw as bigint);
      case "json":
        try {
          return JSON.parse(this.raw as string) as JsonValue;
        } catch {
          return this.raw;
        }
      default:
        return this.raw;
    }
  }

  /**
   * The text of a `text` value.
   *
   * ```ts
   * AttributeValue.text("gpt-4o").asString(); // "gpt-4o"
   * AttributeValue.integer(1).asString(); // undefined
   * ```
   */
  asString(): string | undefined {
    return this.tag === "text" ? (this.raw as string) : undefined;
  }

  /**
   * An `integer` or `float` value as a number.
   *
   * ```ts
   * AttributeValue.integer(3).asNumber(); // 3
   * AttributeValue.float(0.7).asNumber(); // 0.7
   * ```
   */
  asNumber(): number | undefined {
    if (this.tag === "integer") return Number(this.raw);
    if (this.tag === "float") return this.raw as number;
    return undefined;
  }

  /**
   * An `integer` value, exactly.
   *
   * ```ts
   * AttributeValue.integer(2n ** 60n).asBigInt(); // 1152921504606846976n
   * ```
   */
  asBigInt(): bigint | undefined {
    return this.tag === "integer" ? (this.raw as bigint) : undefined;
  }

  /**
   * A `boolean` value.
   *
   * ```ts
   * AttributeValue.boolean(false).asBoolean(); // false
   * ```
   */
  asBoolean(): boolean | undefined {
    return this.tag === "boolean" ? (this.raw as boolean) : undefined;
  }

  /**
   * The JSON text of a `json` value.
   *
   * ```ts
   * AttributeValue.json("[1,2]").asJson(); // "[1,2]"
   * ```
   */
  asJson(): string | undefined {
    return this.tag === "json" ? (this.raw as string) : undefined;
  }

  /**
   * The value as a list of strings: a `text` value is a list of one, a `json` array of
   * strings is itself; anything else is `undefined`. Instrumentations disagree on
   * whether an attribute such as `gen_ai.response.finish_reasons` is a string or an
   * array: this reads both.
   *
   * ```ts
   * AttributeValue.text("stop").toStringList(); // ["stop"]
   * AttributeValue.json('["stop","length"]').toStringList(); // ["stop", "length"]
   * AttributeValue.json("[1]").toStringList(); // undefined
   * ```
   */
  toStringList(): string[] | undefined {
    if (this.tag === "text") return [this.raw as string];
    if (this.tag !== "json") return undefined;
    const parsed = this.value;
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) {
      return parsed as string[];
    }
    return undefined;
  }

  /**
   * The value in `JSON.stringify`: its plain value (an integer too big for a number as
   * its decimal string).
   *
   * ```ts
   * JSON.stringify({ v: AttributeValue.integer(2) }); // '{"v":2}'
   * ```
   */
  toJSON(): JsonValue {
    const value = this.value;
    return typeof value === "bigint" ? value.toString() : (value as JsonValue);
  }

  /**
   * The value as text: `text` as it is, the others as JSON would write them.
   *
   * ```ts
   * String(AttributeValue.float(0.5)); // "0.5"
   * ```
   */
  toString(): string {
    return this.tag === "text" || this.tag === "json" ? (this.raw as string) : String(this.raw);
  }
}

/**
 * One attribute: a key and its value.
 *
 * ```ts
 * import { AttributeValue, type Attribute } from "@flowtrace/plugin-sdk";
 *
 * const system: Attribute = { key: "gen_ai.system", value: AttributeValue.text("openai") };
 * ```
 */
export interface Attribute {
  /** The key, e.g. `gen_ai.system`. */
  key: string;
  /** The value. */
  value: AttributeValue;
}

/**
 * The value of attribute `key` in `attributes`.
 *
 * ```ts
 * import { AttributeValue, findAttribute } from "@flowtrace/plugin-sdk";
 *
 * const attributes = [{ key: "service.name", value: AttributeValue.text("agent") }];
 * findAttribute(attributes, "service.name")?.asString(); // "agent"
 * ```
 */
export function findAttribute(
  attributes: readonly Attribute[],
  key: string,
): AttributeValue | undefined {
  return attributes.find((a) => a.key === key)?.value;
}

/**
 * Set attribute `key` in `attributes` to `value` (made with {@link AttributeValue.from}),
 * replacing the value it had.
 *
 * ```ts
 * import { setAttribute, type Attribute } from "@flowtrace/plugin-sdk";
 *
 * const attributes: Attribute[] = [];
 * setAttribute(attributes, "flowtrace.redacted", true);
 * setAttribute(attributes, "flowtrace.redacted", false);
 * attributes.length; // 1
 * ```
 */
export function setAttribute(attributes: Attribute[], key: string, value: AttributeInput): void {
  const converted = AttributeValue.from(value);
  const existing = attributes.find((a) => a.key === key);
  if (existing) {
    existing.value = converted;
  } else {
    attributes.push({ key, value: converted });
  }
}

/**
 * `value` as a number when that is exact, else as the bigint. Internal: not exported by
 * the package.
 */
export function toNumber(value: bigint): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}
