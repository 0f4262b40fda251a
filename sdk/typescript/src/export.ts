/**
 * The bridge between a plugin's implementation and the contract: `cargo flowtrace build`
 * writes an entry module that imports the plugin's export and passes it to the function
 * of its kind here, which returns the object componentize-js exports:
 *
 * ```ts
 * import { evaluator as plugin } from "../../../src/index.ts";
 * import { exportEvaluator } from "@flowtrace/plugin-sdk/export";
 * export const evaluator = exportEvaluator(plugin);
 * ```
 *
 * Each bridge (in its kind's module of `kinds/`) converts the host's values into the SDK's
 * types and back, calls the plugin's methods with the plugin as `this`, waits for
 * promises, and turns what they throw into the contract's `plugin-error`: a
 * {@link PluginError} as it is, anything else as `failed` with the exception's name and
 * message, its stack in the plugin log. Each also routes `console` to the plugin log
 * ({@link installConsole}).
 *
 * @module
 */

export { formatConsole, installConsole } from "./console";
export * from "./kinds";
