//! A SQLite VFS for the fault points on SQLite's own I/O: the default VFS, except that the
//! WAL file's writes (`sqlite.wal_write`) and syncs (`sqlite.wal_sync`) fail when their point is
//! active, as on a failing disk. A WAL file opened through it is the default VFS's file with a
//! method table of our own: a copy of the default one in which `xWrite` and `xSync` ask the
//! fault point before passing the call on, so every other method sees the file it made.
//!
//! The workspace denies `unsafe_code`; a VFS is SQLite's C interface, so this module (compiled
//! only with the `failpoints` feature, into tests) allows it.

#![allow(unsafe_code)]

use rusqlite::ffi;
use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

/// The VFS's name, for `Connection::open_with_flags_and_vfs`.
pub const NAME: &str = "caseload-faults";

/// The default VFS, whose methods this one calls.
struct Real(*mut ffi::sqlite3_vfs);
// SAFETY: SQLite's VFS objects are immutable once registered and safe to use from any thread.
unsafe impl Send for Real {}
// SAFETY: as above.
unsafe impl Sync for Real {}

static REAL: OnceLock<Real> = OnceLock::new();
/// The method table of the default VFS's files, and ours built from it.
static REAL_METHODS: OnceLock<(ffi::sqlite3_io_methods, usize)> = OnceLock::new();
static METHODS: OnceLock<ffi::sqlite3_io_methods> = OnceLock::new();

/// Registers the VFS (once); a connection then names it to use it.
pub fn register() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS, which lives as long as the
        // process; the copy is leaked, so it too outlives every connection that uses it.
        unsafe {
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!real.is_null(), "SQLite has no default VFS");
            let _ = REAL.set(Real(real));
            let mut vfs = *real;
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = c"caseload-faults".as_ptr();
            vfs.xOpen = Some(open);
            let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 0);
            assert_eq!(rc, ffi::SQLITE_OK, "cannot register the fault VFS");
        }
    });
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real = REAL.get().expect("registered").0;
    // SAFETY: the file's memory is the default VFS's size (the copy kept `szOsFile`), and the
    // default VFS is called with itself, as SQLite would.
    unsafe {
        let rc = ((*real).xOpen.expect("xOpen"))(real, name, file, flags, out_flags);
        if rc == ffi::SQLITE_OK && flags & ffi::SQLITE_OPEN_WAL != 0 && !(*file).pMethods.is_null()
        {
            // The table of the first WAL file is copied; only a file with that same table (the
            // default VFS has one per locking style) gets ours.
            let table = (*file).pMethods;
            let (base, _) = REAL_METHODS.get_or_init(|| (*table, table as usize));
            if REAL_METHODS
                .get()
                .is_some_and(|(_, at)| *at == table as usize)
            {
                (*file).pMethods = METHODS.get_or_init(|| ffi::sqlite3_io_methods {
                    xWrite: Some(write),
                    xSync: Some(sync),
                    ..*base
                });
            }
        }
        rc
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    if super::active("sqlite.wal_write") {
        return ffi::SQLITE_IOERR_WRITE;
    }
    let (real, _) = REAL_METHODS.get().expect("set at open");
    // SAFETY: the file was opened by the default VFS, whose method this is.
    unsafe { (real.xWrite.expect("xWrite"))(file, data, amount, offset) }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    if super::active("sqlite.wal_sync") {
        return ffi::SQLITE_IOERR_FSYNC;
    }
    let (real, _) = REAL_METHODS.get().expect("set at open");
    // SAFETY: as in `write`.
    unsafe { (real.xSync.expect("xSync"))(file, flags) }
}
