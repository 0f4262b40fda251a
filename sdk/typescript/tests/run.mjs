// Runs the SDK's unit tests: bundles each `*.test.ts` with esbuild, the host interfaces
// replaced by the fakes in `host/`, then runs them with node's test runner.
//
//   node tests/run.mjs <esbuild package dir> <output dir>

import { createRequire } from "node:module";
import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const [esbuildDir, outDir] = process.argv.slice(2);
const esbuild = createRequire(join(esbuildDir, "package.json"))(esbuildDir);
const here = dirname(fileURLToPath(import.meta.url));
const tests = readdirSync(here).filter((f) => f.endsWith(".test.ts"));

const fakeHost = {
  name: "fake-host",
  setup(build) {
    build.onResolve({ filter: /^flowtrace:plugin\/[a-z-]+@0\.1\.0$/ }, (args) => ({
      path: join(here, "host", `${/plugin\/([a-z-]+)@/.exec(args.path)[1]}.ts`),
    }));
    build.onResolve({ filter: /^@flowtrace\/plugin-sdk(\/.*)?$/ }, (args) => {
      const sub = args.path.slice("@flowtrace/plugin-sdk".length).replace(/^\//, "") || "index";
      return { path: join(here, "..", "src", `${sub}.ts`) };
    });
  },
};

await esbuild.build({
  entryPoints: tests.map((t) => join(here, t)),
  outdir: outDir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "es2022",
  plugins: [fakeHost],
  logLevel: "warning",
});
const files = tests.map((t) => join(outDir, t.replace(/\.ts$/, ".mjs")));
const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exitCode = run.status ?? 1;
