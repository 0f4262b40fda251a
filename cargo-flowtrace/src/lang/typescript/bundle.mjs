// Written by cargo-flowtrace: bundles a TypeScript or JavaScript plugin, its npm
// dependencies and the SDK into the one ES module componentize-js builds, with esbuild's
// JavaScript API (for the resolver plugin below). Run as `node bundle.mjs <request.json>`.
//
// The host interfaces (`flowtrace:plugin/*`) and WASI (`wasi:*`) stay imports of the
// bundle, for componentize-js to bind; an import of a host interface, or of an SDK module,
// whose capability flowtrace.toml does not declare is an error at that import. esbuild's
// messages are printed as esbuild prints them; the helps for the ones cargo-flowtrace
// knows a fix for are written to the request's `result` file.

import { createRequire, builtinModules } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const esbuild = createRequire(join(request.esbuild, "package.json"))(request.esbuild);

const SDK = "@flowtrace/plugin-sdk";
const CONTRACT = request.contract; // "flowtrace:plugin" and "0.1.0"
const granted = new Set(request.granted);
const capabilityOf = request.capabilities; // interface -> capability
const sdkModules = { "": "index.ts", export: "export.ts", kv: "kv.ts", traces: "traces.ts", embeddings: "embeddings.ts" };
const builtins = new Set(builtinModules);
const helps = new Set();
const NODE_HELP =
  "a plugin runs in a WebAssembly sandbox, not in Node.js: use web APIs (`fetch`, `TextEncoder`, " +
  "`crypto.getRandomValues`) or pure-JavaScript packages";

function needsCapability(what, iface) {
  const capability = capabilityOf[iface];
  const line = `${capability} = true`;
  helps.add(`add \`${line}\` under \`[capabilities]\` in flowtrace.toml`);
  return {
    errors: [
      {
        text: `\`${what}\` needs the capability \`${capability}\`, which this plugin does not declare`,
        notes: [{ text: `add \`${line}\` under \`[capabilities]\` in flowtrace.toml` }],
      },
    ],
  };
}

const flowtrace = {
  name: "flowtrace",
  setup(build) {
    build.onResolve({ filter: /^@flowtrace\/plugin-sdk(\/.*)?$/ }, (args) => {
      const sub = args.path.slice(SDK.length).replace(/^\//, "");
      if (!(sub in sdkModules)) {
        const known = Object.keys(sdkModules)
          .filter((m) => m !== "export")
          .map((m) => `\`${SDK}${m ? "/" + m : ""}\``);
        return { errors: [{ text: `the SDK has no module \`${args.path}\`: its modules are ${known.join(", ")}` }] };
      }
      if (sub in capabilityOf && !granted.has(sub)) return needsCapability(args.path, sub);
      return { path: join(request.sdk, sdkModules[sub]) };
    });
    build.onResolve({ filter: /^flowtrace:/ }, (args) => {
      const match = /^flowtrace:plugin\/([a-z-]+)(?:@(.+))?$/.exec(args.path);
      const iface = match?.[1];
      const known = iface === "types" || iface === "log" || iface === "config" || iface in capabilityOf;
      if (!match || !known) {
        return { errors: [{ text: `\`${args.path}\` is not a host interface of \`${CONTRACT.package}@${CONTRACT.version}\`` }] };
      }
      if (match[2] !== CONTRACT.version) {
        return {
          errors: [{ text: `import \`${CONTRACT.package}/${iface}@${CONTRACT.version}\`: this plugin is built against \`${CONTRACT.package}@${CONTRACT.version}\`` }],
        };
      }
      if (iface in capabilityOf && !granted.has(iface)) return needsCapability(args.path, iface);
      return { path: args.path, external: true };
    });
    build.onResolve({ filter: /^wasi:/ }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /^node:/ }, (args) => {
      helps.add(NODE_HELP);
      return { errors: [{ text: `\`${args.path}\` is a Node.js built-in module, which plugins cannot use` }] };
    });
  },
};

const NO_EXPORT = /^No matching export in "(.*)" for import "(.*)"$/;

function explain(errors) {
  for (const error of errors) {
    const missing = NO_EXPORT.exec(error.text);
    if (missing && missing[2] === request.exportName) {
      helps.add(
        `export the plugin from \`${request.entryShown}\`: \`export const ${request.exportName} = ${request.define}({ ... })\``,
      );
    }
    const unresolved = /^Could not resolve "([^"]+)"/.exec(error.text)?.[1];
    if (unresolved === undefined || unresolved.startsWith(".") || unresolved.startsWith("/")) continue;
    const pkg = unresolved.startsWith("@")
      ? unresolved.split("/").slice(0, 2).join("/")
      : unresolved.split("/")[0];
    if (builtins.has(pkg)) {
      helps.add(NODE_HELP);
    } else {
      helps.add(
        `add \`${pkg}\` to \`dependencies\` in package.json and run \`npm install\` in \`${request.root}\``,
      );
    }
  }
}

async function print(messages, kind) {
  if (messages.length === 0) return;
  const text = await esbuild.formatMessages(messages, { kind, color: request.color, terminalWidth: 100 });
  process.stderr.write(text.join(""));
}

let ok = false;
try {
  const result = await esbuild.build({
    absWorkingDir: request.root,
    entryPoints: [request.entry],
    outfile: request.outfile,
    bundle: true,
    // `cjs` for the dev engine of `cargo flowtrace test`: the host interfaces become
    // `require(...)` calls, which the engine answers with its own imports of them.
    format: request.format,
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["module"],
    charset: "utf8",
    legalComments: "none",
    keepNames: true,
    // `plugin.js.map` beside the bundle, without the sources' text and without a comment
    // naming it; the build embeds it in the component so the host can map a stack back.
    sourcemap: "external",
    sourcesContent: false,
    logLevel: "silent",
    plugins: [flowtrace],
  });
  await print(result.warnings, "warning");
  ok = true;
} catch (failure) {
  if (!Array.isArray(failure?.errors)) throw failure;
  explain(failure.errors);
  await print(failure.warnings ?? [], "warning");
  await print(failure.errors, "error");
}
writeFileSync(request.result, JSON.stringify({ ok, helps: [...helps] }));
process.exitCode = ok ? 0 : 1;
