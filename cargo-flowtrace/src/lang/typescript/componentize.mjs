// Written by cargo-flowtrace: builds the component of a bundle with componentize-js's
// JavaScript API (the same call its command line makes). Run as
// `node componentize.mjs <componentize-js package> <bundle> <wit> <world> <out> [-d <feature>]...`
// from the fixed staging directory the bundle was copied to, with TMPDIR under it.
//
// componentize-js bakes two host paths into the component: the directory it ran in (which
// it strips from stack traces) and its scratch directory, `<TMPDIR>/<12 hex digits of
// Math.random()>`. Both are fixed here, so the component names no path of the author's
// machine and the same bundle gives the same component in any checkout.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [pkg, sourcePath, witPath, worldName, out, ...rest] = process.argv.slice(2);
const disableFeatures = rest.filter((_, i) => rest[i - 1] === "-d");

Math.random = () => 0;
const { componentize } = await import(pathToFileURL(join(pkg, "src", "componentize.js")).href);
const { component } = await componentize({ sourcePath, witPath, worldName, disableFeatures });
await writeFile(out, component);
