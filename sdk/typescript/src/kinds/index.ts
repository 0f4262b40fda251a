/**
 * The plugin kinds, one module each: the kind's interface (and the types only it uses),
 * its `define*` function, and its `export*` bridge to the contract's interface, which
 * `cargo flowtrace build` wraps the plugin's export in. A new kind is its module and its
 * line here.
 *
 * The package root (`../index.ts`) and the bridge module (`../export.ts`) both re-export
 * all of this, so that neither lists the kinds again: the root therefore also offers the
 * `export*` bridges, which plugins never need to call.
 *
 * @module
 */

export * from "./embedder";
export * from "./evaluator";
export * from "./exporter";
export * from "./transformer";
