//! A Tantivy directory whose writes fail while the `index.write` fault point is active (built
//! only with the `failpoints` feature): every file the index writes (segments as they are
//! flushed, merged segments, `meta.json`) and every directory sync then fail with an I/O error,
//! as on a full disk, so tests exercise Tantivy's own failure paths rather than a simulation of
//! them.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, TerminatingWrite, WatchCallback,
    WatchHandle, WritePtr,
};

const POINT: &str = "index.write";

fn check() -> io::Result<()> {
    if crate::fault::active(POINT) {
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "injected fault: no space left on the index's device",
        ));
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct FaultyDirectory(pub Box<dyn Directory>);

struct FaultyWrite(WritePtr);

impl Write for FaultyWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        check()?;
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        check()?;
        self.0.flush()
    }
}

impl TerminatingWrite for FaultyWrite {
    fn terminate_ref(&mut self, token: AntiCallToken) -> io::Result<()> {
        check()?;
        self.0.terminate_ref(token)
    }
}

impl Directory for FaultyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.0.get_file_handle(path)
    }
    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.0.delete(path)
    }
    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.0.exists(path)
    }
    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let inner = self.0.open_write(path)?;
        Ok(BufWriter::new(Box::new(FaultyWrite(inner))))
    }
    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        check()?;
        self.0.atomic_write(path, data)
    }
    fn sync_directory(&self) -> io::Result<()> {
        check()?;
        self.0.sync_directory()
    }
    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(callback)
    }
    /// The wrapped directory's locks (file locks for `MmapDirectory`), not the trait's default
    /// of lock files that must not exist.
    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.0.acquire_lock(lock)
    }
}
