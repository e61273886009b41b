import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules', 'cdk.out', '**/dist/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The AWS SDK's documented switch (aws/aws-sdk-js-v3#7983) for its Node 20 end-of-support notice,
    // which every test process would otherwise print once. Node 22 is the recommended version (README).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
