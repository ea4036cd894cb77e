#!/usr/bin/env node
/**
 * The `retry-client` command (package `bin`). See docs/cli.md.
 *
 * @packageDocumentation
 */
import { run } from "./program.js";

// A reader that stops early (`retry-client send … | head -c 5`) closes the pipe: end quietly,
// as `cat` does, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE")
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    throw error;
  });

const code = await run(process.argv);
process.exitCode = code;
// Keep-alive sockets and store handles must not hold a finished command open.
setTimeout(() => process.exit(code), 50).unref();
