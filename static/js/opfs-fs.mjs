// An Emscripten file system whose files live in the Origin Private File System.
//
// Why JS: OPFS sync access handles are a browser API reachable only from JS, and an Emscripten FS is a
// set of JS callbacks (node_ops, stream_ops) that Pyodide's libc calls synchronously. Python's own open()
// and stdlib sqlite3 then read and write OPFS files directly, durably, with no copy in memory.
//
// Design (see docs/storage.md): one flat directory. Opening a sync access handle is async, so every
// handle is opened up front (all files already in the directory, plus the pinned names such as the
// database and its journal) or by an explicit `await fs.prepare(name)` before Python creates a new file.
// After that every call is synchronous. A file "exists" for POSIX purposes while it has been created and
// not unlinked; unlinking a pinned file truncates it, unlinking any other file closes its handle and
// removes it from OPFS. Emscripten's fdatasync never reaches a file system, so durability comes from
// `flush()`, which the engine calls after every commit.

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const ERRNO = { ENOENT: 44, EEXIST: 20, EACCES: 2, EINVAL: 28, EPERM: 63, EISDIR: 31 };
const BLOCK = 4096;

/** Open (creating if asked) a sync access handle; a clear error if another context holds it. */
async function openHandle(dir, name, create) {
  const fileHandle = await dir.getFileHandle(name, { create });
  try {
    return await fileHandle.createSyncAccessHandle();
  } catch (err) {
    if (err && err.name === "NoModificationAllowedError") {
      throw new Error(`The file ${name} is open in another tab or window. Close the other tab and reload.`);
    }
    throw err;
  }
}

/**
 * Mount OPFS directory `dirName` at `mountPoint` in Pyodide's FS.
 * @returns {Promise<{prepare(name): Promise<void>, flush(): void, remove(name): Promise<void>, names(): string[]}>}
 */
export async function mountOpfs(pyodide, mountPoint, { dirName = "app", pinned = [] } = {}) {
  const FS = pyodide.FS;
  if (!navigator.storage || !navigator.storage.getDirectory) {
    throw new Error("This browser has no Origin Private File System (OPFS); use a current Chrome, Edge, Firefox or Safari, outside private browsing.");
  }
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(dirName, { create: true });

  /** name -> {handle, exists} */
  const files = new Map();
  for await (const [name, entry] of dir.entries()) {
    if (entry.kind === "file") files.set(name, { handle: await openHandle(dir, name, false), exists: true });
  }
  for (const name of pinned) {
    if (!files.has(name)) files.set(name, { handle: await openHandle(dir, name, true), exists: false });
  }
  const pinnedSet = new Set(pinned);

  const errno = (code) => new FS.ErrnoError(code);
  const fileOf = (node) => {
    const file = files.get(node.name);
    if (!file || !file.exists) throw errno(ERRNO.ENOENT);
    return file;
  };

  const dirNodeOps = {
    getattr: (node) => stat(node, BLOCK),
    setattr: () => {},
    lookup(parent, name) {
      const file = files.get(name);
      if (!file || !file.exists) throw errno(ERRNO.ENOENT);
      return makeNode(parent, name, S_IFREG | 0o666);
    },
    mknod(parent, name, mode) {
      if ((mode & S_IFDIR) === S_IFDIR) throw errno(ERRNO.EPERM); // flat by design
      const file = files.get(name);
      if (!file) throw errno(ERRNO.EACCES); // not prepared: call prepare(name) first
      file.handle.truncate(0);
      file.exists = true;
      return makeNode(parent, name, S_IFREG | 0o666);
    },
    unlink(parent, name) {
      const file = files.get(name);
      if (!file || !file.exists) throw errno(ERRNO.ENOENT);
      file.handle.truncate(0);
      file.handle.flush();
      file.exists = false;
      if (!pinnedSet.has(name)) {
        file.handle.close();
        files.delete(name);
        dir.removeEntry(name).catch((err) => console.warn(`OPFS: could not remove ${name}:`, err));
      }
    },
    rename() { throw errno(ERRNO.EPERM); },
    rmdir() { throw errno(ERRNO.EPERM); },
    readdir: () => [".", "..", ...[...files].filter(([, f]) => f.exists).map(([n]) => n)],
    symlink() { throw errno(ERRNO.EPERM); },
  };

  const fileNodeOps = {
    getattr: (node) => stat(node, fileOf(node).handle.getSize()),
    setattr(node, attr) {
      if (attr.size !== undefined) {
        const file = fileOf(node);
        file.handle.truncate(attr.size);
        file.dirty = true;
      }
    },
  };

  const fileStreamOps = {
    open(stream) { fileOf(stream.node); },
    close() {},
    read(stream, buffer, offset, length, position) {
      if (length === 0) return 0;
      return fileOf(stream.node).handle.read(buffer.subarray(offset, offset + length), { at: position });
    },
    write(stream, buffer, offset, length, position) {
      if (length === 0) return 0;
      const file = fileOf(stream.node);
      file.dirty = true;
      return file.handle.write(buffer.subarray(offset, offset + length), { at: position });
    },
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      else if (whence === 2) position += fileOf(stream.node).handle.getSize();
      if (position < 0) throw errno(ERRNO.EINVAL);
      return position;
    },
    fsync(stream) { fileOf(stream.node).handle.flush(); return 0; },
  };

  function stat(node, size) {
    const now = new Date();
    return {
      dev: 1, ino: node.id, mode: node.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size,
      atime: now, mtime: now, ctime: now, blksize: BLOCK, blocks: Math.ceil(size / BLOCK),
    };
  }

  function makeNode(parent, name, mode) {
    const node = FS.createNode(parent, name, mode, 0);
    const isDir = (mode & S_IFDIR) === S_IFDIR;
    node.node_ops = isDir ? dirNodeOps : fileNodeOps;
    node.stream_ops = isDir ? {} : fileStreamOps;
    return node;
  }

  const OPFSFS = { mount: () => makeNode(null, "/", S_IFDIR | 0o777) };
  FS.mkdirTree(mountPoint);
  FS.mount(OPFSFS, {}, mountPoint);

  return {
    /** Open a handle for `name` so that Python can create it synchronously. */
    async prepare(name) {
      if (name.includes("/")) throw new Error(`OPFS file names are flat: ${name}`);
      if (!files.has(name)) files.set(name, { handle: await openHandle(dir, name, true), exists: false });
    },
    /** Make every write so far durable (call after each commit). */
    flush() {
      for (const file of files.values()) {
        if (file.dirty) { file.handle.flush(); file.dirty = false; }
      }
    },
    /** Close and delete `name` (no-op if missing). */
    async remove(name) {
      const file = files.get(name);
      if (file) { file.handle.close(); files.delete(name); }
      await dir.removeEntry(name).catch(() => {});
    },
    names: () => [...files].filter(([, f]) => f.exists).map(([n]) => n),
  };
}
