/**
 * The plugin kinds, one module each: the kind's interface (and the types only it uses),
 * its `define*` function, and its `export*` bridge to the contract's interface, which
 * `cargo flowtrace build` wraps the plugin's export in (through `../export.ts`). A new
 * kind is its module and its line here.
 *
 * @module
 */

export * from "./embedder";
export * from "./evaluator";
export * from "./exporter";
export * from "./transformer";
