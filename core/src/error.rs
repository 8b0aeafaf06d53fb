// SPDX-License-Identifier: GPL-2.0
//! Errors of the core, each with the errno the VFS should see.

/// Why a core operation failed.
///
/// `Corrupt` names the on-media structure that failed validation, so that a
/// damaged image is reported as "what is wrong" rather than a bare EIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The media contradicts the format (bad magic, checksum, pointer...).
    Corrupt(&'static str),
    /// The medium reported an error (e.g. poisoned pmem).
    Io,
    /// No free blocks or inodes, or the undo journal is full.
    NoSpace,
    /// No such directory entry or inode.
    NotFound,
    /// The name already exists.
    Exists,
    /// A directory that must be empty is not.
    NotEmpty,
    /// A path component is not a directory.
    NotDir,
    /// The operation does not apply to a directory.
    IsDir,
    /// Name longer than `NAME_MAX` (255 bytes).
    NameTooLong,
    /// Link count would overflow.
    TooManyLinks,
    /// File offset or size beyond what the format can map.
    FileTooBig,
    /// Invalid argument (e.g. rename of a directory into itself).
    Invalid,
    /// No such extended attribute.
    NoAttr,
    /// The caller's buffer is too small for the answer, or an attribute
    /// name too long.
    Range,
    /// The image uses a feature this code does not understand.
    Unsupported(&'static str),
    /// The filesystem is read-only.
    ReadOnly,
    /// An interrupted transaction must be rolled back, and this mount
    /// may not write (`norecovery`, or a read-only device).
    NeedsRecovery,
    /// The operation needs an allocation group outside the filesystem's
    /// group scope (`Fs::set_group_scope`); it rolled back, and must run
    /// again with every group in scope.
    Contended,
}

impl Error {
    /// The positive errno value for this error (Linux numbering).
    pub fn errno(self) -> i32 {
        match self {
            Error::Corrupt(_) => 117, // EUCLEAN
            Error::Io => 5,           // EIO
            Error::NoSpace => 28,     // ENOSPC
            Error::NotFound => 2,     // ENOENT
            Error::Exists => 17,      // EEXIST
            Error::NotEmpty => 39,    // ENOTEMPTY
            Error::NotDir => 20,      // ENOTDIR
            Error::IsDir => 21,       // EISDIR
            Error::NameTooLong => 36, // ENAMETOOLONG
            Error::TooManyLinks => 31,
            Error::FileTooBig => 27, // EFBIG
            Error::Invalid => 22,    // EINVAL
            Error::NoAttr => 61,     // ENODATA
            Error::Range => 34,      // ERANGE
            Error::Unsupported(_) => 95,
            Error::ReadOnly | Error::NeedsRecovery => 30, // EROFS
            Error::Contended => 11,                       // EAGAIN
        }
    }
}

impl Error {
    /// Category and detail, as static strings (for kernel log lines).
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Error::Corrupt(what) => ("corrupt", what),
            Error::Unsupported(what) => ("unsupported", what),
            Error::Io => ("I/O error", "media"),
            Error::NoSpace => ("no space", "device or journal full"),
            Error::NeedsRecovery => ("needs recovery", "interrupted transaction"),
            _ => ("error", "operation refused"),
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Corrupt(what) => write!(f, "corrupt {what}"),
            Error::Unsupported(what) => write!(f, "unsupported {what}"),
            other => write!(f, "{other:?} (errno {})", other.errno()),
        }
    }
}

/// Result type of the core.
pub type Result<T> = core::result::Result<T, Error>;

/// Arithmetic on a count read from the media (link counts, block counts,
/// entry counts, free-space counters). A corrupt image whose checksums are
/// right can hold a count smaller than what the operation takes away, or
/// one at the top of its range: that is a `Corrupt` error naming the
/// count, never an overflow (the kernel builds with overflow checks, so a
/// bare `-=` or `+=` there is a `BUG()`).
pub trait MediaCount: Sized {
    /// `self - n`, or `Corrupt(what)` if that would go below zero.
    fn minus(self, n: Self, what: &'static str) -> Result<Self>;
    /// `self + n`, or `Corrupt(what)` if that would overflow.
    fn plus(self, n: Self, what: &'static str) -> Result<Self>;
}

macro_rules! media_count {
    ($($t:ty),*) => {$(
        impl MediaCount for $t {
            fn minus(self, n: Self, what: &'static str) -> Result<Self> {
                self.checked_sub(n).ok_or(Error::Corrupt(what))
            }
            fn plus(self, n: Self, what: &'static str) -> Result<Self> {
                self.checked_add(n).ok_or(Error::Corrupt(what))
            }
        }
    )*};
}
media_count!(u32, u64);
