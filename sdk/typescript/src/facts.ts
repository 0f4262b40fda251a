/**
 * The normalized facts of a span that are not fixed-size: {@link Message},
 * {@link ToolCall}, {@link SpanError}, and {@link SpanFacts} to give them to
 * `Trace.fromData` in unit tests.
 *
 * The host reads them from whichever GenAI convention recorded the span (OpenTelemetry
 * GenAI, Traceloop/OpenLLMetry, OpenInference, the Vercel AI SDK), so a plugin reads one
 * shape; `docs/trace-model.md` lists the attributes behind each.
 *
 * @module
 */

import type * as wit from "flowtrace:plugin/types@0.1.0";

/**
 * One tool call: one a model asked for (in a {@link Message}), or one a tool span executed
 * (`span.toolCall()`).
 *
 * ```ts
 * const call: ToolCall = { name: "get_weather", arguments: '{"city":"Paris"}' };
 * ```
 */
export interface ToolCall {
  /** The id that ties a model's request to its execution and its result. */
  readonly id?: string;
  /** The tool's (function's) name; empty when the source recorded none. */
  readonly name: string;
  /** The arguments as recorded, usually JSON text. */
  readonly arguments?: string;
  /** What the tool returned, for an executed tool; absent in a message. */
  readonly result?: string;
}

/**
 * One message sent to or received from a model.
 *
 * ```ts
 * const cut = span.outputMessages().some((m) => m.finishReason === "length");
 * ```
 */
export interface Message {
  /** `system`, `user`, `assistant`, `tool`, ... as recorded; empty when not recorded. */
  readonly role: string;
  /** The text of the message (its text parts joined by newlines), when it has text. */
  readonly content?: string;
  /** The tool calls the message asks for. */
  readonly toolCalls: readonly ToolCall[];
  /** For a tool result: the id of the call it answers. */
  readonly toolCallId?: string;
  /** Why the model stopped, on an output message that records it. */
  readonly finishReason?: string;
}

/**
 * What went wrong in a span: from its status, `error.type` and exception events.
 *
 * ```ts
 * const timedOut = span.error()?.errorType === "timeout";
 * ```
 */
export interface SpanError {
  /** The error's type or class (`error.type`, `exception.type`), when recorded. */
  readonly errorType?: string;
  /** What happened (the status message, or `exception.message`), when recorded. */
  readonly message?: string;
}

/**
 * The normalized facts of one span, for `Trace.fromData`: without a host nothing
 * normalizes attributes, so a unit test states the facts it wants the plugin to see.
 *
 * ```ts
 * const trace = Trace.fromData(data, { s1: { finishReasons: ["length"] } });
 * ```
 */
export interface SpanFacts {
  /** Why the model stopped, one entry per choice. */
  readonly finishReasons?: readonly string[];
  /** The messages the call was sent. */
  readonly inputMessages?: readonly Message[];
  /** The messages the model answered. */
  readonly outputMessages?: readonly Message[];
  /** The tool a tool span executed. */
  readonly toolCall?: ToolCall;
  /** What went wrong. */
  readonly error?: SpanError;
}

/** The SDK's {@link ToolCall} from the host's record. */
export function toolCallFromWire(call: wit.ToolCall): ToolCall {
  return {
    name: call.name,
    ...(call.id !== undefined && { id: call.id }),
    ...(call.arguments !== undefined && { arguments: call.arguments }),
    ...(call.result !== undefined && { result: call.result }),
  };
}

/** The SDK's {@link Message} from the host's record. */
export function messageFromWire(message: wit.Message): Message {
  return {
    role: message.role,
    toolCalls: message.toolCalls.map(toolCallFromWire),
    ...(message.content !== undefined && { content: message.content }),
    ...(message.toolCallId !== undefined && { toolCallId: message.toolCallId }),
    ...(message.finishReason !== undefined && { finishReason: message.finishReason }),
  };
}

/** The SDK's {@link SpanError} from the host's record. */
export function spanErrorFromWire(error: wit.SpanError): SpanError {
  return {
    ...(error.errorType !== undefined && { errorType: error.errorType }),
    ...(error.message !== undefined && { message: error.message }),
  };
}
