import { readFileSync } from 'node:fs';

export interface PackageInfo {
  version: string;
  /** Where users report a bug: package.json's bugs.url, else its repository. */
  reportTo: string | undefined;
}

/**
 * Read at runtime next to the module (dist/cli/ or src/cli/ → the package root), so the
 * version is the installed package's, not one baked in at build time.
 */
export function readPackageInfo(): PackageInfo {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
    bugs?: { url?: unknown } | string;
    repository?: { url?: unknown } | string;
  };
  const url = (v: { url?: unknown } | string | undefined): string | undefined =>
    typeof v === 'string' ? v : typeof v?.url === 'string' ? v.url : undefined;
  return {
    version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    reportTo: url(pkg.bugs) ?? url(pkg.repository),
  };
}
