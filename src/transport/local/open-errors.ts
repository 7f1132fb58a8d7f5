// One-line messages for a local device that cannot be opened, naming the path and what to do.
export function describeOpenError(path: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return `${path}: no such file or device`;
    case 'EACCES': case 'EPERM': return `${path}: permission denied (run as a user that may read and write it)`;
    case 'EISDIR': return `${path}: is a directory (give a file or a block device)`;
    case 'EROFS': return `${path}: read-only file system (a read-write open is needed)`;
    case 'EBUSY': return `${path}: device is busy (mounted or in use)`;
    case 'ENXIO': case 'ENODEV': return `${path}: no such device (driver not bound?)`;
    default: return `${path}: cannot open: ${err.code ?? 'error'} ${err.message ?? String(e)}`.trim();
  }
}
