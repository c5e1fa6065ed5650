#!/usr/bin/env node
import { runCli } from './run.js';

const controller = new AbortController();
const interrupt = () => controller.abort(new Error('interrupted'));
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);
process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
process.off('SIGINT', interrupt);
process.off('SIGTERM', interrupt);
