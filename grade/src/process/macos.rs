//! macOS: counts and CPU time from `proc_pidinfo`, the call `ps`, `top` and
//! Activity Monitor use (there is no `/proc`). Connections and the accept queue are
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

/// What `proc_pidinfo` says of process `pid` as a task: its threads and the
/// CPU time they used.
fn task_info(pid: u32) -> Option<libc::proc_taskinfo> {
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
    (filled == size).then_some(info)
}

/// How many threads process `pid` has.
pub fn threads(pid: u32) -> Option<usize> {
    task_info(pid).map(|info| info.pti_threadnum.max(0) as usize)
}

/// The CPU time process `pid` has used, all its threads included, as
/// `proc_taskinfo` counts it: in ticks of the machine's time base, which are
/// nanoseconds on Intel Macs and 1/24,000,000 s on Apple silicon. The rate
/// comes from `hw.tbfrequency`, the hardware's own, and not from
/// `mach_timebase_info`: under Rosetta that one says "nanoseconds" while the
/// kernel still counts in native ticks.
pub fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    let info = task_info(pid)?;
    let ticks = u128::from(info.pti_total_user) + u128::from(info.pti_total_system);
    let per_second = u128::from(time_base_frequency()?);
    let nanos = ticks * 1_000_000_000 / per_second;
    Some(std::time::Duration::from_nanos(u64::try_from(nanos).ok()?))
}

/// How many ticks of the time base make a second (`sysctl hw.tbfrequency`).
fn time_base_frequency() -> Option<u64> {
    let mut value = [0u8; 8];
    let mut len = value.len();
    // SAFETY: the name ends with a NUL; the buffer holds `len` bytes, and the
    // kernel writes at most that many and says how many in `len`.
    let status = unsafe {
        libc::sysctlbyname(
            c"hw.tbfrequency".as_ptr(),
            value.as_mut_ptr().cast(),
            &raw mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    let frequency = match (status, len) {
        (0, 8) => u64::from_ne_bytes(value),
        (0, 4) => u64::from(u32::from_ne_bytes([value[0], value[1], value[2], value[3]])),
        _ => return None,
    };
    (frequency > 0).then_some(frequency)
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

/// Not read here: a server listening on another port is found by the
/// reminder after a while instead.
pub fn listening(_pids: &[u32]) -> Option<Vec<std::net::SocketAddr>> {
    None
}

pub fn accept_queue(_port: u16) -> Option<usize> {
    None
}
