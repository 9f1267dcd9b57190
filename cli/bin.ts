// Entry point of the `lrp` bin, built to cli/dist/lrp.mjs by scripts/build-cli.mjs. The AWS adapters load only when a
// command talks to AWS: `lrp --help` and `lrp --version` load no SDK.
import { run } from './main';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await run(process.argv.slice(2), async (table, needs) => (await import('./aws-deps')).awsDeps(table, needs));
