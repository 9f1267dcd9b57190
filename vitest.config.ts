import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixtures are other projects' files (a sam-init folder carries its jest tests): inputs of our tests, never run.
    exclude: [...configDefaults.exclude, 'test/fixtures/**'],
    environment: 'node',
    // moto, cfn-lint and the AWS CLI from the machine, else from the project's pinned environment (harness/python-tools.ts).
    globalSetup: ['./test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Two cores: keep forks bounded so CDK synth tests and moto-backed suites do not starve each other.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Handlers log through Powertools; keep test output readable. Tests that assert logs set their own level.
      LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
