//! `errno`, the result of every preview1 call, and how host I/O errors map onto it.
//!
//! The numbering is the `errno` enum of `wasi_snapshot_preview1.witx` (`typenames.witx`),
//! in declaration order.

use std::io;

/// A preview1 error code. `Errno::Success` (0) is not an error; a host function returns
/// `Result<(), Errno>` and the glue turns it into the `i32` the guest sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    Success = 0,
    TooBig = 1,
    Access = 2,
    AddrInUse = 3,
    AddrNotAvail = 4,
    AfNoSupport = 5,
    Again = 6,
    Already = 7,
    BadF = 8,
    BadMsg = 9,
    Busy = 10,
    Canceled = 11,
    Child = 12,
    ConnAborted = 13,
    ConnRefused = 14,
    ConnReset = 15,
    DeadLk = 16,
    DestAddrReq = 17,
    Dom = 18,
    DQuot = 19,
    Exist = 20,
    Fault = 21,
    FBig = 22,
    HostUnreach = 23,
    IdRm = 24,
    IlSeq = 25,
    InProgress = 26,
    Intr = 27,
    Inval = 28,
    Io = 29,
    IsConn = 30,
    IsDir = 31,
    Loop = 32,
    MFile = 33,
    MLink = 34,
    MsgSize = 35,
    Multihop = 36,
    NameTooLong = 37,
    NetDown = 38,
    NetReset = 39,
    NetUnreach = 40,
    NFile = 41,
    NoBufs = 42,
    NoDev = 43,
    NoEnt = 44,
    NoExec = 45,
    NoLck = 46,
    NoLink = 47,
    NoMem = 48,
    NoMsg = 49,
    NoProtoOpt = 50,
    NoSpc = 51,
    NoSys = 52,
    NotConn = 53,
    NotDir = 54,
    NotEmpty = 55,
    NotRecoverable = 56,
    NotSock = 57,
    NotSup = 58,
    NoTty = 59,
    NxIo = 60,
    Overflow = 61,
    OwnerDead = 62,
    Perm = 63,
    Pipe = 64,
    Proto = 65,
    ProtoNoSupport = 66,
    ProtoType = 67,
    Range = 68,
    RoFs = 69,
    SPipe = 70,
    Srch = 71,
    Stale = 72,
    TimedOut = 73,
    TxtBsy = 74,
    XDev = 75,
    NotCapable = 76,
}

impl Errno {
    /// The host's `errno` value `raw` (Linux numbering, through rustix's constants so
    /// the mapping holds on every Unix rustix supports).
    pub fn from_raw_os_error(raw: i32) -> Errno {
        use rustix::io::Errno as E;
        let e = E::from_raw_os_error(raw);
        let table: &[(E, Errno)] = &[
            (E::TOOBIG, Errno::TooBig),
            (E::ACCESS, Errno::Access),
            (E::ADDRINUSE, Errno::AddrInUse),
            (E::ADDRNOTAVAIL, Errno::AddrNotAvail),
            (E::AFNOSUPPORT, Errno::AfNoSupport),
            (E::AGAIN, Errno::Again),
            (E::ALREADY, Errno::Already),
            (E::BADF, Errno::BadF),
            (E::BADMSG, Errno::BadMsg),
            (E::BUSY, Errno::Busy),
            (E::CANCELED, Errno::Canceled),
            (E::CHILD, Errno::Child),
            (E::CONNABORTED, Errno::ConnAborted),
            (E::CONNREFUSED, Errno::ConnRefused),
            (E::CONNRESET, Errno::ConnReset),
            (E::DEADLK, Errno::DeadLk),
            (E::DESTADDRREQ, Errno::DestAddrReq),
            (E::DOM, Errno::Dom),
            (E::DQUOT, Errno::DQuot),
            (E::EXIST, Errno::Exist),
            (E::FAULT, Errno::Fault),
            (E::FBIG, Errno::FBig),
            (E::HOSTUNREACH, Errno::HostUnreach),
            (E::IDRM, Errno::IdRm),
            (E::ILSEQ, Errno::IlSeq),
            (E::INPROGRESS, Errno::InProgress),
            (E::INTR, Errno::Intr),
            (E::INVAL, Errno::Inval),
            (E::IO, Errno::Io),
            (E::ISCONN, Errno::IsConn),
            (E::ISDIR, Errno::IsDir),
            (E::LOOP, Errno::Loop),
            (E::MFILE, Errno::MFile),
            (E::MLINK, Errno::MLink),
            (E::MSGSIZE, Errno::MsgSize),
            (E::MULTIHOP, Errno::Multihop),
            (E::NAMETOOLONG, Errno::NameTooLong),
            (E::NETDOWN, Errno::NetDown),
            (E::NETRESET, Errno::NetReset),
            (E::NETUNREACH, Errno::NetUnreach),
            (E::NFILE, Errno::NFile),
            (E::NOBUFS, Errno::NoBufs),
            (E::NODEV, Errno::NoDev),
            (E::NOENT, Errno::NoEnt),
            (E::NOEXEC, Errno::NoExec),
            (E::NOLCK, Errno::NoLck),
            (E::NOLINK, Errno::NoLink),
            (E::NOMEM, Errno::NoMem),
            (E::NOMSG, Errno::NoMsg),
            (E::NOPROTOOPT, Errno::NoProtoOpt),
            (E::NOSPC, Errno::NoSpc),
            (E::NOSYS, Errno::NoSys),
            (E::NOTCONN, Errno::NotConn),
            (E::NOTDIR, Errno::NotDir),
            (E::NOTEMPTY, Errno::NotEmpty),
            (E::NOTRECOVERABLE, Errno::NotRecoverable),
            (E::NOTSOCK, Errno::NotSock),
            (E::NOTSUP, Errno::NotSup),
            (E::OPNOTSUPP, Errno::NotSup),
            (E::NOTTY, Errno::NoTty),
            (E::NXIO, Errno::NxIo),
            (E::OVERFLOW, Errno::Overflow),
            (E::OWNERDEAD, Errno::OwnerDead),
            (E::PERM, Errno::Perm),
            (E::PIPE, Errno::Pipe),
            (E::PROTO, Errno::Proto),
            (E::PROTONOSUPPORT, Errno::ProtoNoSupport),
            (E::PROTOTYPE, Errno::ProtoType),
            (E::RANGE, Errno::Range),
            (E::ROFS, Errno::RoFs),
            (E::SPIPE, Errno::SPipe),
            (E::SRCH, Errno::Srch),
            (E::STALE, Errno::Stale),
            (E::TIMEDOUT, Errno::TimedOut),
            (E::TXTBSY, Errno::TxtBsy),
            (E::XDEV, Errno::XDev),
        ];
        table
            .iter()
            .find(|(host, _)| *host == e)
            .map_or(Errno::Io, |(_, wasi)| *wasi)
    }
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Errno {
        if let Some(raw) = e.raw_os_error() {
            return Errno::from_raw_os_error(raw);
        }
        // Errors cap-std raises itself carry no OS code. The one that matters is its
        // sandbox refusal ("a path led outside of the filesystem"), a PermissionDenied:
        // the guest asked for something its capabilities do not cover.
        match e.kind() {
            io::ErrorKind::PermissionDenied => Errno::NotCapable,
            io::ErrorKind::NotFound => Errno::NoEnt,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::NotADirectory => Errno::NotDir,
            io::ErrorKind::IsADirectory => Errno::IsDir,
            io::ErrorKind::DirectoryNotEmpty => Errno::NotEmpty,
            io::ErrorKind::Unsupported => Errno::NotSup,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::BrokenPipe => Errno::Pipe,
            _ => Errno::Io,
        }
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        Errno::from_raw_os_error(e.raw_os_error())
    }
}

/// What every preview1 implementation function returns.
pub type WasiResult<T> = Result<T, Errno>;
