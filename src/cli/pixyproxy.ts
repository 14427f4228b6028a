#!/usr/bin/env node
/**
 * The `pixyproxy` command's entry point (`node dist/cli/pixyproxy.js`, bin/pixyproxy.js). Most of a
 * cold start is loading and compiling modules, so before anything else is loaded it turns on Node's
 * module compile cache (`module.enableCompileCache()`, Node >= 22.1; in the OS temp directory, or
 * NODE_COMPILE_CACHE): later starts reuse the compiled code. Node 20 has no such cache, and there
 * this only loads the command. The command itself is in command.ts.
 */
import nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./command.js');
