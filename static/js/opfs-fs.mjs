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
const ERRNO = { ENOENT: 44, EEXIST: 20, EACCES: 2, EINVAL: 28, EPERM: 63, EISDIR: 31, EIO: 29, ENOSPC: 51 };
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
 * Test-only storage faults (py/worker/hooks.py `storage_faults`, docs/storage.md): returns
 * `check(op, name)`, which throws, as a full disk or quota would, on the (after_calls + 1)-th matching call
 * and the times - 1 after it; null when no fault is set (production), so each handle call pays one null test.
 * Also used by the copier (copier.mjs), for its copies staged ahead.
 */
export function faultSwitch(faults) {
  if (!faults || faults.length === 0) return null;
  const state = faults.map((fault) => ({ fault, calls: 0 }));
  const prefixes = { staged: "staged-", ahead: "ahead-" }; // a kind of file: any whose name starts so
  const matches = (file, name) => (prefixes[file] ? name.startsWith(prefixes[file]) : file === name);
  return (op, name) => {
    for (const entry of state) {
      const { fault } = entry;
      if (fault.op !== op || !matches(fault.file, name)) continue;
      entry.calls += 1;
      if (entry.calls <= fault.after_calls || entry.calls > fault.after_calls + fault.times) continue;
      const quota = fault.error === "QuotaExceededError";
      console.warn(`test storage fault: ${op} call ${entry.calls} on ${name} throws ${fault.error}`);
      throw new DOMException(
        quota ? "The quota has been exceeded. (test storage fault)" : "An I/O error occurred. (test storage fault)",
        quota ? "QuotaExceededError" : "InvalidStateError");
    }
  };
}

/**
 * A failed flush as an Error whose text reads well in the page (Python shows it as "<name>: <message>"); a
 * DOMException reaches Python as "A value of type object with tag [object DOMException] was thrown…".
 */
function flushError(name, err) {
  const full = err && err.name === "QuotaExceededError";
  const error = new Error(full ? `the storage is full, ${name} could not be saved to disk`
    : `${name} could not be saved to disk (${err && err.message ? err.message : err})`);
  error.name = (err && err.name) || "Error";
  return error;
}

/**
 * Mount OPFS directory `dirName` at `mountPoint` in Pyodide's FS.
 * @returns {Promise<{prepare(name): Promise<void>, adopt(name): Promise<void>, flush(): void,
 *   remove(name): Promise<void>, names(): string[], directory: FileSystemDirectoryHandle}>}
 */
export async function mountOpfs(pyodide, mountPoint, { dirName = "app", pinned = [], faults = null } = {}) {
  const FS = pyodide.FS;
  const fault = faultSwitch(faults); // test-only: null in production
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
  /**
   * Make a handle call from inside a libc call. A failure (a full disk: QuotaExceededError; any other I/O
   * error) becomes an errno, ENOSPC or EIO, that SQLite and Python handle (SQLITE_FULL / SQLITE_IOERR and a
   * rollback, OSError); a JS exception would unwind through the wasm stack and kill Pyodide ("fatal error").
   */
  const io = (op, name, call) => {
    try {
      if (fault) fault(op, name);
      return call();
    } catch (err) {
      if (err instanceof FS.ErrnoError) throw err;
      console.warn(`OPFS: ${op} of ${name} failed: ${err && err.name}: ${err && err.message}`);
      throw errno(err && err.name === "QuotaExceededError" ? ERRNO.ENOSPC : ERRNO.EIO);
    }
  };
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
      io("truncate", name, () => file.handle.truncate(0));
      file.exists = true;
      return makeNode(parent, name, S_IFREG | 0o666);
    },
    unlink(parent, name) {
      const file = files.get(name);
      if (!file || !file.exists) throw errno(ERRNO.ENOENT);
      io("truncate", name, () => file.handle.truncate(0));
      io("flush", name, () => file.handle.flush());
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
        io("truncate", node.name, () => file.handle.truncate(attr.size));
        file.dirty = true;
      }
    },
  };

  const fileStreamOps = {
    open(stream) { fileOf(stream.node); },
    close() {},
    read(stream, buffer, offset, length, position) {
      if (length === 0) return 0;
      const file = fileOf(stream.node);
      return io("read", stream.node.name, () => file.handle.read(buffer.subarray(offset, offset + length), { at: position }));
    },
    write(stream, buffer, offset, length, position) {
      if (length === 0) return 0;
      const file = fileOf(stream.node);
      file.dirty = true;
      return io("write", stream.node.name, () => file.handle.write(buffer.subarray(offset, offset + length), { at: position }));
    },
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      else if (whence === 2) position += fileOf(stream.node).handle.getSize();
      if (position < 0) throw errno(ERRNO.EINVAL);
      return position;
    },
    fsync(stream) {
      const file = fileOf(stream.node);
      io("flush", stream.node.name, () => file.handle.flush());
      return 0;
    },
  };

  // listing the directory (Python's os.listdir): getdents moves the stream by seeking, entry by entry
  const dirStreamOps = {
    llseek(stream, offset, whence) {
      const position = whence === 1 ? stream.position + offset : offset;
      if (whence === 2 || position < 0) throw errno(ERRNO.EINVAL);
      return position;
    },
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
    node.stream_ops = isDir ? dirStreamOps : fileStreamOps;
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
    /** Open `name` as an existing file: one another worker wrote and closed (a copy the copier made). */
    async adopt(name) {
      if (name.includes("/")) throw new Error(`OPFS file names are flat: ${name}`);
      const file = files.get(name);
      if (file) file.exists = true;
      else files.set(name, { handle: await openHandle(dir, name, false), exists: true });
    },
    /** Make every write so far durable (call after each commit). */
    flush() {
      for (const [name, file] of files) {
        if (!file.dirty) continue;
        try {
          if (fault) fault("flush", name);
          file.handle.flush();
        } catch (err) {
          throw flushError(name, err);
        }
        file.dirty = false;
      }
    },
    /** Close and delete `name` (no-op if missing). */
    async remove(name) {
      const file = files.get(name);
      if (file) { file.handle.close(); files.delete(name); }
      await dir.removeEntry(name).catch(() => {});
    },
    names: () => [...files].filter(([, f]) => f.exists).map(([n]) => n),
    /** The OPFS directory (a handle other workers can be given: the copier writes its copies there). */
    directory: dir,
  };
}
