import { realpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isAbsolute, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * bootlab's own sample installers (images/ beside src/ and dist/): the bundled scenarios
 * name them as ../images/…, and a scenario copied anywhere may keep doing so by path.
 */
export const BUNDLED_IMAGES_DIR = fileURLToPath(new URL('../../images/', import.meta.url));

/**
 * The directories a scenario's input files (image `source:`/`file:`, PEM trust entries) may
 * lie in: its own directory, bootlab's bundled images, and what the user named with
 * `--allow-outside`. Each is compared by its real path, so a symlink inside an allowed
 * directory that points out of it does not let a file through.
 */
export class InputRoots {
  private constructor(private readonly roots: readonly string[]) {}

  static async of(scenarioDir: string, allowOutside: readonly string[] = []): Promise<InputRoots> {
    const own = await Promise.all([scenarioDir, BUNDLED_IMAGES_DIR].map((d) => realpath(d).catch(() => undefined)));
    // A directory the user named must exist: a typo would otherwise only show as a refusal.
    const named = await Promise.all(
      allowOutside.map((d) =>
        realpath(d).catch((e: NodeJS.ErrnoException) => {
          throw new UsageError(`--allow-outside ${d}: ${e.code ?? e.message}`);
        }),
      ),
    );
    return new InputRoots([...own.filter((d): d is string => d !== undefined), ...named]);
  }

  /**
   * The real path of `path`, or why it may not be read: it does not exist, or it lies
   * outside every allowed directory.
   */
  async resolve(path: string): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (e) {
      return { ok: false, reason: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    if (this.roots.some((root) => isInside(root, real))) return { ok: true, path: real };
    const shown = real === path ? path : `${path} (really ${real})`;
    return {
      ok: false,
      reason: `${shown} is outside the scenario's directory and bootlab's bundled images; name its directory with --allow-outside to use it`,
    };
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}
