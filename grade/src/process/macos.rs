//! macOS: counts from `proc_pidinfo`, the call `ps`, `top` and Activity
//! Monitor use (there is no `/proc`). Connections and the accept queue are
//! not read: the socket details would need structures the `libc` crate does
//! not describe, and the checks that need them say they were skipped.

use std::ffi::{CStr, c_int, c_void};

/// `proc_listpids`'s "the processes of one group" (`PROC_PGRP_ONLY` in
/// `<sys/proc_info.h>`).
const PROC_PGRP_ONLY: u32 = 2;
/// `proc_pidinfo`'s "the ids of a process's threads" (`PROC_PIDLISTTHREADS`).
const PROC_PIDLISTTHREADS: c_int = 6;

pub fn can_count_threads() -> bool {
    true
}

/// Fills a buffer of `T` with `call(buffer, its size in bytes)`, which returns
/// how many bytes it filled, growing it while it comes back full.
fn list<T: Copy + Default>(mut call: impl FnMut(*mut c_void, c_int) -> c_int) -> Option<Vec<T>> {
    let mut items = vec![T::default(); 256];
    loop {
        let bytes = c_int::try_from(items.len() * size_of::<T>()).ok()?;
        let filled = call(items.as_mut_ptr().cast(), bytes);
        if filled < 0 {
            return None;
        }
        let filled = filled as usize / size_of::<T>();
        if filled < items.len() {
            items.truncate(filled);
            return Some(items);
        }
        items.resize(items.len() * 2, T::default());
    }
}

/// Every process in group `pgid`.
pub fn group_pids(pgid: u32) -> Option<Vec<u32>> {
    // SAFETY: the buffer holds as many bytes as we say.
    let pids: Vec<c_int> =
        list(|buffer, bytes| unsafe { libc::proc_listpids(PROC_PGRP_ONLY, pgid, buffer, bytes) })?;
    Some(
        pids.into_iter()
            .filter(|&pid| pid > 0)
            .map(|pid| pid as u32)
            .collect(),
    )
}

/// How many threads process `pid` has.
pub fn threads(pid: u32) -> Option<usize> {
    // SAFETY: an all-zero `proc_taskinfo` is valid; we pass its size.
    let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::proc_taskinfo>() as c_int;
    // SAFETY: the buffer is the struct, of the size given.
    let filled = unsafe {
        libc::proc_pidinfo(
            pid as c_int,
            libc::PROC_PIDTASKINFO,
            0,
            (&raw mut info).cast(),
            size,
        )
    };
    (filled == size).then(|| info.pti_threadnum.max(0) as usize)
}

/// The CPU time process `pid` has used. `proc_taskinfo` has it, but in Mach
/// time units whose length differs between Intel and Apple silicon, and the
/// conversion is not something to get wrong in a grade: not measured here,
/// and the check that wants it says so.
pub fn cpu_time(_pid: u32) -> Option<std::time::Duration> {
    None
}

/// The names of process `pid`'s threads; `main` for a thread with no name.
pub fn thread_names(pid: u32) -> Option<Vec<String>> {
    // SAFETY: the buffer holds as many bytes as we say.
    let ids: Vec<u64> = list(|buffer, bytes| unsafe {
        libc::proc_pidinfo(pid as c_int, PROC_PIDLISTTHREADS, 0, buffer, bytes)
    })?;
    let name = |id: u64| {
        // SAFETY: as in `threads`.
        let mut info: libc::proc_threadinfo = unsafe { std::mem::zeroed() };
        let size = size_of::<libc::proc_threadinfo>() as c_int;
        // SAFETY: the buffer is the struct, of the size given.
        let filled = unsafe {
            libc::proc_pidinfo(
                pid as c_int,
                libc::PROC_PIDTHREADINFO,
                id,
                (&raw mut info).cast(),
                size,
            )
        };
        if filled != size {
            return None;
        }
        // SAFETY: the kernel ends the name with a NUL within the array.
        let name = unsafe { CStr::from_ptr(info.pth_name.as_ptr()) };
        let name = name.to_string_lossy();
        Some(if name.is_empty() {
            "main".to_owned()
        } else {
            name.into_owned()
        })
    };
    Some(ids.into_iter().filter_map(name).collect())
}

/// How many descriptors the processes have open.
pub fn descriptors(pids: &[u32]) -> Option<usize> {
    let count = |&pid: &u32| {
        // SAFETY: the buffer holds as many bytes as we say.
        // `proc_fdinfo` is two 32-bit words, the descriptor and its type.
        let fds: Vec<[u32; 2]> = list(|buffer, bytes| unsafe {
            libc::proc_pidinfo(pid as c_int, libc::PROC_PIDLISTFDS, 0, buffer, bytes)
        })?;
        Some(fds.len())
    };
    Some(pids.iter().filter_map(count).sum())
}

pub fn connections(_pids: &[u32]) -> Option<usize> {
    None
}

pub fn accept_queue(_port: u16) -> Option<usize> {
    None
}
