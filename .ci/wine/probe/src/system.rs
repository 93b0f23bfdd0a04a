//! Counting a process's threads and handles, as the tests count a server's
//! threads and descriptors in `/proc` on Linux; and the file system.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use windows_sys::Wdk::System::SystemInformation::{
    NtQuerySystemInformation, SystemProcessInformation,
};
use windows_sys::Wdk::System::Threading::{NtQueryInformationProcess, ProcessHandleCount};
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessHandleCount};
use windows_sys::Win32::System::WindowsProgramming::SYSTEM_PROCESS_INFORMATION;

use crate::process::child;
use crate::{Context, Seen, differs, ensure, works};

/// The ids of `pid`'s threads, from a Toolhelp32 snapshot of every thread on
/// the system.
pub fn thread_ids(pid: u32) -> Result<Vec<u32>, String> {
    // SAFETY: the snapshot handle is checked and closed; the entry's size is set.
    unsafe {
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        ensure(snapshot != INVALID_HANDLE_VALUE, || {
            format!("CreateToolhelp32Snapshot: error {}", GetLastError())
        })?;
        let mut entry: THREADENTRY32 = std::mem::zeroed();
        entry.dwSize = std::mem::size_of::<THREADENTRY32>() as u32;
        let mut ids = Vec::new();
        let mut more = Thread32First(snapshot, &mut entry);
        while more != 0 {
            if entry.th32OwnerProcessID == pid {
                ids.push(entry.th32ThreadID);
            }
            more = Thread32Next(snapshot, &mut entry);
        }
        CloseHandle(snapshot);
        Ok(ids)
    }
}

/// `pid`'s thread count, and its parent's pid, from NtQuerySystemInformation:
/// one call for the whole system, as Task Manager does.
fn nt_process(pid: u32) -> Result<(u32, usize), String> {
    let mut buffer: Vec<u64> = vec![0; 1 << 16];
    loop {
        let mut needed = 0u32;
        let bytes = (buffer.len() * 8) as u32;
        // SAFETY: the buffer is as long as we say; the walk below stays in it.
        let status = unsafe {
            NtQuerySystemInformation(
                SystemProcessInformation,
                buffer.as_mut_ptr().cast(),
                bytes,
                &mut needed,
            )
        };
        // STATUS_INFO_LENGTH_MISMATCH: processes came while we asked.
        if status == 0xC000_0004_u32 as i32 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        ensure(status == 0, || {
            format!("NtQuerySystemInformation: status {status:#x}")
        })?;
        let mut offset = 0usize;
        loop {
            // SAFETY: each entry lies inside the buffer the system filled.
            let entry = unsafe {
                &*buffer
                    .as_ptr()
                    .cast::<u8>()
                    .add(offset)
                    .cast::<SYSTEM_PROCESS_INFORMATION>()
            };
            if entry.UniqueProcessId as usize == pid as usize {
                // Reserved2 is InheritedFromProcessId, the parent.
                return Ok((entry.NumberOfThreads, entry.Reserved2 as usize));
            }
            if entry.NextEntryOffset == 0 {
                return Err(format!("process {pid} is not in the list"));
            }
            offset += entry.NextEntryOffset as usize;
        }
    }
}

/// Parks `n` threads until the returned sender is dropped.
fn park(n: usize) -> (mpsc::Sender<()>, Vec<std::thread::JoinHandle<()>>) {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let threads = (0..n)
        .map(|_| {
            let rx = std::sync::Arc::clone(&rx);
            std::thread::spawn(move || {
                let _ = rx.lock().map(|rx| rx.recv());
            })
        })
        .collect();
    (tx, threads)
}

/// Counts this process's threads before, while and after five more run.
fn count_own(count: fn(u32) -> Result<usize, String>) -> Seen {
    let me = std::process::id();
    let before = count(me)?;
    let (stop, threads) = park(5);
    let during = count(me)?;
    drop(stop);
    for thread in threads {
        thread.join().map_err(|_| "a parked thread panicked")?;
    }
    let after = count(me)?;
    ensure(during == before + 5 && after == before, || {
        format!("{before} before, {during} with five more, {after} after")
    })?;
    works(format!(
        "{before} at rest, {during} with five more, {after} after"
    ))
}

pub fn toolhelp_threads() -> Seen {
    count_own(|pid| Ok(thread_ids(pid)?.len()))
}

pub fn nt_threads() -> Seen {
    let (_, parent) = nt_process(std::process::id())?;
    let seen = count_own(|pid| Ok(nt_process(pid)?.0 as usize))?;
    match seen {
        crate::Saw::Works(detail) => works(format!("{detail}; parent pid {parent}")),
        other => Ok(other),
    }
}

pub fn child_threads() -> Seen {
    let mut server = child(&["threads", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .context("spawn")?;
    let mut line = String::new();
    let read = BufReader::new(server.stdout.take().unwrap()).read_line(&mut line);
    let counts = (|| {
        read.context("read ready")?;
        let toolhelp = thread_ids(server.id())?.len();
        let (nt, parent) = nt_process(server.id())?;
        Ok::<_, String>((toolhelp, nt, parent))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let (toolhelp, nt, parent) = counts?;
    ensure(parent == std::process::id() as usize, || {
        format!("the child's parent is {parent}, not us")
    })?;
    // main + 3 parked; Windows itself may add loader and pool threads.
    ensure(toolhelp >= 4 && toolhelp == nt as usize, || {
        format!("Toolhelp32 says {toolhelp}, NtQuerySystemInformation {nt}")
    })?;
    works(format!(
        "main and 3 parked threads: both count {toolhelp}; the child's parent is us"
    ))
}

/// This process's handles, three ways: the documented call, the native call
/// under it, and the system-wide handle table (what Process Explorer reads).
fn handles() -> Result<[u32; 3], String> {
    let mut documented = 0;
    let mut native = 0u32;
    // SAFETY: plain calls with out-parameters of the sizes given.
    unsafe {
        let ok = GetProcessHandleCount(GetCurrentProcess(), &mut documented);
        ensure(ok != 0, || {
            format!("GetProcessHandleCount: error {}", GetLastError())
        })?;
        let status = NtQueryInformationProcess(
            GetCurrentProcess(),
            ProcessHandleCount,
            (&raw mut native).cast(),
            4,
            std::ptr::null_mut(),
        );
        ensure(status == 0, || {
            format!("NtQueryInformationProcess: status {status:#x}")
        })?;
    }
    Ok([documented, native, system_handles(std::process::id())?])
}

/// `pid`'s entries in the system's handle table, SystemExtendedHandleInformation
/// (64): a count of handles, a reserved word, then 40-byte entries whose
/// second word is the owning process.
fn system_handles(pid: u32) -> Result<u32, String> {
    const SYSTEM_EXTENDED_HANDLE_INFORMATION: i32 = 64;
    let mut buffer: Vec<usize> = vec![0; 1 << 16];
    loop {
        // SAFETY: the buffer is as long as we say; the walk below stays in it.
        let status = unsafe {
            NtQuerySystemInformation(
                SYSTEM_EXTENDED_HANDLE_INFORMATION,
                buffer.as_mut_ptr().cast(),
                (buffer.len() * size_of::<usize>()) as u32,
                std::ptr::null_mut(),
            )
        };
        if status == 0xC000_0004_u32 as i32 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        ensure(status == 0, || {
            format!("SystemExtendedHandleInformation: status {status:#x}")
        })?;
        let count = buffer[0];
        ensure(2 + count * 5 <= buffer.len(), || {
            format!("{count} handles overflow the buffer")
        })?;
        let mine = (0..count)
            .filter(|i| buffer[2 + i * 5 + 1] == pid as usize)
            .count();
        return Ok(mine as u32);
    }
}

pub fn handle_count() -> Seen {
    // The first socket also starts Winsock, which keeps a handle of its own.
    drop(std::net::TcpListener::bind("127.0.0.1:0").context("bind")?);
    let before = handles()?;
    let sockets: Vec<_> = (0..10)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .context("bind")?;
    let during = handles()?;
    drop(sockets);
    let after = handles()?;
    let ways = [
        "GetProcessHandleCount",
        "NtQueryInformationProcess",
        "the handle table",
    ];
    let mut counting = Vec::new();
    let detail = (0..3)
        .map(|i| {
            if during[i] >= before[i] + 10 && after[i] == before[i] {
                counting.push(ways[i]);
            }
            format!("{}: {} / {} / {}", ways[i], before[i], during[i], after[i])
        })
        .collect::<Vec<_>>()
        .join("; ");
    ensure(!counting.is_empty(), || {
        format!("none counts ten more sockets (before / with them / after): {detail}")
    })?;
    works(format!(
        "counted by {} (before / with ten sockets / after): {detail}",
        counting.join(" and ")
    ))
}

pub fn many_threads() -> Seen {
    let threads: Vec<_> = (0..500)
        .map(|i| std::thread::Builder::new().spawn(move || i))
        .collect::<Result<_, _>>()
        .context("spawn")?;
    let sum: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    ensure(sum == (0..500).sum(), || {
        format!("the threads returned {sum}")
    })?;
    works("each ran and returned".into())
}

pub fn parallelism() -> Seen {
    let n = std::thread::available_parallelism().context("available_parallelism")?;
    works(format!("{n}"))
}

/// A fresh folder for the file system probes, under the temporary folder.
fn scratch(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("wine-probe-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).context("create a scratch folder")?;
    Ok(dir)
}

pub fn metadata() -> Seen {
    let dir = scratch("metadata")?;
    let file = dir.join("page.html");
    fs::write(&file, vec![b'x'; 1234]).context("write")?;
    let meta = fs::metadata(&file).context("metadata")?;
    let age = SystemTime::now()
        .duration_since(meta.modified().context("modified")?)
        .unwrap_or_default();
    let folder = fs::metadata(&dir).context("folder metadata")?;
    let _ = fs::remove_dir_all(&dir);
    ensure(
        meta.is_file() && meta.len() == 1234 && folder.is_dir(),
        || format!("file {meta:?}, folder {folder:?}"),
    )?;
    ensure(age < Duration::from_secs(60), || {
        format!("modified {age:?} ago")
    })?;
    works(format!("in {}: length, kind and date right", dir.display()))
}

/// The server keeps a canonical root and checks that what a symlink leads to
/// `starts_with` it. On Windows `canonicalize` returns a verbatim `\\?\C:\...`
/// path, which only starts with a root that is canonical too.
pub fn canonicalize() -> Seen {
    let dir = scratch("canonical")?;
    fs::write(dir.join("page.html"), "x").context("write")?;
    let root = fs::canonicalize(&dir).context("canonicalize the root")?;
    let page = fs::canonicalize(dir.join("page.html")).context("canonicalize a page")?;
    let under_canonical = page.starts_with(&root);
    let under_plain = page.starts_with(&dir);
    let _ = fs::remove_dir_all(&dir);
    ensure(under_canonical, || {
        format!("{page:?} is not under {root:?}")
    })?;
    let detail = format!(
        "{} -> {}; a canonical page is under the canonical root, and {} the plain one",
        dir.display(),
        root.display(),
        if under_plain {
            "also under"
        } else {
            "not under"
        }
    );
    works(detail)
}

/// Names that open a file other than the one they spell on Windows: another
/// case, a trailing dot or space, the default data stream, a device. Each lets
/// a request reach a file by a name that a check on the name did not expect.
pub fn windows_names() -> Seen {
    let dir = scratch("names")?;
    fs::write(dir.join("page.html"), "x").context("write")?;
    let names = [
        "PAGE.HTML",
        "page.html.",
        "page.html ",
        "page.html::$DATA",
        "nul",
    ];
    let opened: Vec<bool> = names
        .iter()
        .map(|name| fs::File::open(dir.join(name)).is_ok())
        .collect();
    let _ = fs::remove_dir_all(&dir);
    let detail = names
        .iter()
        .zip(&opened)
        .map(|(name, opens)| format!("{name:?} {}", if *opens { "opens" } else { "does not" }))
        .collect::<Vec<_>>()
        .join(", ");
    // On Windows every one of them opens something.
    if opened.iter().all(|opens| *opens) {
        works(detail)
    } else {
        differs(format!("{detail}; on Windows all of them open"))
    }
}

/// The server's confinement follows symlinks; its tests make some. Windows
/// lets a user make them only with Developer Mode on (or as administrator).
pub fn symlinks() -> Seen {
    let dir = scratch("links")?;
    fs::write(dir.join("page.html"), "x").context("write")?;
    fs::create_dir(dir.join("folder")).context("mkdir")?;
    let file = std::os::windows::fs::symlink_file(dir.join("page.html"), dir.join("file-link"));
    let folder = std::os::windows::fs::symlink_dir(dir.join("folder"), dir.join("folder-link"));
    let seen = [
        ("symlink_file", &file, "file-link"),
        ("symlink_dir", &folder, "folder-link"),
    ]
    .map(|(call, made, name)| (call, describe_link(made, &dir.join(name))));
    let _ = fs::remove_dir_all(&dir);
    let detail = seen
        .iter()
        .map(|(call, (_, seen))| format!("{call}: {seen}"))
        .collect::<Vec<_>>()
        .join("; ");
    if seen.iter().all(|(_, (is_link, _))| *is_link) {
        works(detail)
    } else {
        differs(detail)
    }
}

/// Whether a link was made and is seen as one, and what was seen.
fn describe_link(made: &std::io::Result<()>, path: &Path) -> (bool, String) {
    if let Err(error) = made {
        return (false, format!("{error}"));
    }
    match fs::symlink_metadata(path) {
        Err(error) => (
            false,
            format!("said it made it, but it is not there ({error})"),
        ),
        Ok(meta) if meta.file_type().is_symlink() => (
            true,
            format!(
                "a link, leading to {}",
                fs::canonicalize(path).map_or_else(|e| e.to_string(), |p| p.display().to_string())
            ),
        ),
        Ok(meta) => (
            false,
            format!("made, but not a link: {:?}", meta.file_type()),
        ),
    }
}
