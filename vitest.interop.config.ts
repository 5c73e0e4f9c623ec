import { defineConfig } from 'vitest/config';

// Interop tests drive real tools nobody here wrote (openssl, ...). A missing tool is a
// failure that names the package to install, never a skip.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    // The DHCP interop tests run `bootlab serve` and a client script from dist/.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
