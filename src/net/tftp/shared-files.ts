import { open, stat, type FileHandle } from 'node:fs/promises';

/** A read-only handle on one version of a file, shared by the transfers serving it. */
export interface SharedFile {
  readonly fh: FileHandle;
  /** Its size when it was looked up. */
  readonly size: number;
  release(): Promise<void>;
}

interface Entry {
  fh: Promise<FileHandle>;
  users: number;
}

/**
 * Open files shared between read transfers: a hundred clients fetching the same image
 * hold one descriptor, not a hundred. A handle is shared only while the path still names
 * the same file (device, inode, size and mtime), so a file replaced on disk is opened
 * afresh for new transfers while running ones finish the version they started.
 */
export class SharedFiles {
  private readonly open = new Map<string, Entry>();

  async acquire(path: string): Promise<SharedFile> {
    const s = await stat(path, { bigint: true });
    const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${path}`;
    let entry = this.open.get(key);
    if (!entry) {
      const created: Entry = { fh: open(path, 'r'), users: 0 };
      entry = created;
      this.open.set(key, created);
      // A failed open is not cached: the next transfer tries again.
      created.fh.catch(() => {
        if (this.open.get(key) === created) this.open.delete(key);
      });
    }
    entry.users++;
    const e = entry;
    let fh: FileHandle;
    try {
      fh = await e.fh;
    } catch (err) {
      e.users--;
      throw err;
    }
    let released = false;
    return {
      fh,
      size: Number(s.size),
      release: async () => {
        if (released) return;
        released = true;
        if (--e.users > 0) return;
        if (this.open.get(key) === e) this.open.delete(key);
        await fh.close().catch(() => undefined);
      },
    };
  }

  /** Files open right now (for tests and stats). */
  get size(): number {
    return this.open.size;
  }
}
