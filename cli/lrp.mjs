#!/usr/bin/env node
// Entry point of the `lrp` bin: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { run, awsDeps } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2), awsDeps);
