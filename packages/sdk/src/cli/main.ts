#!/usr/bin/env bun
/** The `secrets` command: `secrets help` lists what it does. */
import { processIo } from "./io.ts";
import { runCli } from "./run.ts";

process.exitCode = await runCli(process.argv.slice(2), processIo());
