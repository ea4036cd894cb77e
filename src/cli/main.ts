#!/usr/bin/env node
/**
 * The `retry-client` command (package `bin`). See docs/cli.md.
 *
 * @packageDocumentation
 */
import { run } from "./program.js";

const code = await run(process.argv);
process.exitCode = code;
// Keep-alive sockets and store handles must not hold a finished command open.
setTimeout(() => process.exit(code), 50).unref();
