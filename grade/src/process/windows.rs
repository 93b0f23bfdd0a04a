//! Windows: a job object for the group, the console's Ctrl-C event for
//! Ctrl-C, and counts from Toolhelp32, the system's handle table and the TCP
//! table.
//!
//! The server starts suspended in a hidden console of its own
//! (`CREATE_NO_WINDOW`), is put in a new job, and only then resumed, so that
//! nothing it starts can escape the job. The job is made to end every process
//! in it when its last handle closes, so even a grader that is killed leaves
//! no server behind.

use std::io;
use std::os::windows::io::AsRawHandle;
use std::os::windows::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};

use windows_sys::Wdk::System::SystemInformation::NtQuerySystemInformation;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE, LocalFree};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP_STATE_LISTEN, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID,
    TCP_TABLE_OWNER_PID_ALL,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::Console::{
    AttachConsole, CTRL_C_EVENT, FreeConsole, GenerateConsoleCtrlEvent, SetConsoleCtrlHandler,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_BASIC_PROCESS_ID_LIST, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectBasicProcessIdList, JobObjectExtendedLimitInformation, QueryInformationJobObject,
    SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NO_WINDOW, CREATE_SUSPENDED, ExitProcess, GetThreadDescription, OpenThread,
    ResumeThread, THREAD_QUERY_LIMITED_INFORMATION, THREAD_SUSPEND_RESUME,
};

use super::Signal;

/// Set, with a pid, in the environment of the Ctrl-C helper (see
/// [`Group::ctrl_c`]).
const HELPER_ENV: &str = "GRADE_SEND_CTRL_C_TO";

/// STATUS_CONTROL_C_EXIT: how a program with no Ctrl-C handler ends on
/// Ctrl-C, its "killed by SIGINT".
const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;

/// A job object holding the server and everything it starts.
#[derive(Debug)]
pub struct Group {
    /// The job's handle, as a number so that the group can cross threads
    /// (a handle is valid in every thread of the process).
    job: usize,
}

impl Group {
    fn job(&self) -> HANDLE {
        self.job as HANDLE
    }

    /// Puts `child`, started suspended by [`in_own_group`], in a new job, and
    /// resumes it.
    pub fn adopt(child: &Child) -> io::Result<Group> {
        // SAFETY: plain calls on handles we own; the limits are a zeroed
        // struct of the size given, with one flag set.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return Err(io::Error::last_os_error());
            }
            let group = Group { job: job as usize };
            let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let limited = SetInformationJobObject(
                job,
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                size_of_val(&limits) as u32,
            );
            if limited == 0 || AssignProcessToJobObject(job, child.as_raw_handle() as HANDLE) == 0 {
                return Err(io::Error::last_os_error());
            }
            resume(child.id())?;
            // Keeps the hook, and so the helper, in every program that starts
            // servers: a linker may drop a section nothing refers to.
            std::hint::black_box(HELPER_HOOK);
            Ok(group)
        }
    }

    /// Ctrl-C through the helper; SIGTERM has no equivalent; a kill ends the
    /// job.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        match signal {
            Signal::Interrupt => self.ctrl_c(),
            Signal::Terminate => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "Windows has no SIGTERM for a console program: use Ctrl-C",
            )),
            Signal::Kill => {
                // SAFETY: a plain call on the job's handle.
                if unsafe { TerminateJobObject(self.job(), 1) } == 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            }
        }
    }

    /// Sends Ctrl-C to the console of the job's processes (they share the one
    /// the server was started in), as a terminal would.
    ///
    /// Only a process attached to a console can send its event, and a process
    /// has one console at a time: attaching would take this program's own
    /// away (from a terminal, its output would vanish), and the event would
    /// reach it too. So a helper does it: this very program, started again
    /// with [`HELPER_ENV`] set, which [`helper_hook`] sees before `main`
    /// runs. Any program that controls servers through this module can so
    /// serve as its own helper: the course's binary, a test, a student's.
    fn ctrl_c(&self) -> io::Result<()> {
        let pid = self
            .pids()
            .and_then(|pids| pids.first().copied())
            .ok_or_else(|| io::Error::other("the server has exited"))?;
        let helper = std::env::current_exe()?;
        let status = Command::new(&helper)
            .env(HELPER_ENV, pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        match status.code() {
            Some(0) => Ok(()),
            Some(10) => Err(io::Error::other(format!(
                "Ctrl-C: cannot attach to the console of process {pid}"
            ))),
            _ => Err(io::Error::other(format!(
                "Ctrl-C: the helper ({} with {HELPER_ENV}={pid}) failed ({status})",
                helper.display()
            ))),
        }
    }

    pub fn kill(&self) {
        let _ = self.signal(Signal::Kill);
    }

    /// The processes in the job; `None` if it has none.
    pub fn pids(&self) -> Option<Vec<u32>> {
        // Room for 1,024 processes: the two counts, then a pid a slot.
        let mut buffer = vec![0usize; 2 + 1024];
        // SAFETY: the buffer is as large as we say, and aligned for the struct.
        let ids = unsafe {
            let ok = QueryInformationJobObject(
                self.job(),
                JobObjectBasicProcessIdList,
                buffer.as_mut_ptr().cast(),
                (buffer.len() * size_of::<usize>()) as u32,
                std::ptr::null_mut(),
            );
            if ok == 0 {
                return None;
            }
            let list = &*buffer.as_ptr().cast::<JOBOBJECT_BASIC_PROCESS_ID_LIST>();
            std::slice::from_raw_parts(
                list.ProcessIdList.as_ptr(),
                list.NumberOfProcessIdsInList as usize,
            )
            .iter()
            .map(|&id| id as u32)
            .collect::<Vec<u32>>()
        };
        (!ids.is_empty()).then_some(ids)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: the handle is ours, and closed once.
        unsafe { CloseHandle(self.job()) };
    }
}

/// Makes `command` start suspended (see [`Group::adopt`]) in a hidden console
/// of its own: Ctrl-C is on there, and sending it reaches no one else.
pub fn in_own_group(command: &mut Command) -> &mut Command {
    command.creation_flags(CREATE_NO_WINDOW | CREATE_SUSPENDED)
}

/// The ids of `pid`'s threads, from a Toolhelp32 snapshot of every thread on
/// the system.
fn thread_ids(pid: u32) -> Option<Vec<u32>> {
    // SAFETY: the snapshot handle is checked and closed; the entry's size is set.
    unsafe {
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        if snapshot == INVALID_HANDLE_VALUE {
            return None;
        }
        let mut entry: THREADENTRY32 = std::mem::zeroed();
        entry.dwSize = size_of::<THREADENTRY32>() as u32;
        let mut ids = Vec::new();
        let mut more = Thread32First(snapshot, &mut entry);
        while more != 0 {
            if entry.th32OwnerProcessID == pid {
                ids.push(entry.th32ThreadID);
            }
            more = Thread32Next(snapshot, &mut entry);
        }
        CloseHandle(snapshot);
        Some(ids)
    }
}

/// Resumes every thread of a process started suspended.
fn resume(pid: u32) -> io::Result<()> {
    let threads = thread_ids(pid).ok_or_else(io::Error::last_os_error)?;
    if threads.is_empty() {
        return Err(io::Error::other(format!("process {pid} has no threads")));
    }
    for id in threads {
        // SAFETY: the handle is checked and closed.
        unsafe {
            let thread = OpenThread(THREAD_SUSPEND_RESUME, 0, id);
            if thread.is_null() {
                return Err(io::Error::last_os_error());
            }
            let previous = ResumeThread(thread);
            CloseHandle(thread);
            if previous == u32::MAX {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The CPU time process `pid` has used: not read. `GetProcessTimes` has it,
/// but the one place this port is tested is Wine, where an idle server's
/// process time grows by more than half a second a second (Wine's own work
/// in the process), so an idle-CPU check would fail every server. The check
/// that wants it says it was not measured.
pub fn cpu_time(_pid: u32) -> Option<std::time::Duration> {
    None
}

pub fn can_count_threads() -> bool {
    true
}

pub fn threads(pid: u32) -> Option<usize> {
    thread_ids(pid).map(|ids| ids.len())
}

/// The names threads were given (std names every thread it starts with a
/// name); `main` for one with none, as the main thread is.
pub fn thread_names(pid: u32) -> Option<Vec<String>> {
    let name = |id: u32| -> String {
        // SAFETY: the handle is checked and closed; the description is a
        // NUL-ended string the system allocated, freed with LocalFree.
        unsafe {
            let thread = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, id);
            if thread.is_null() {
                return String::new();
            }
            let mut text = std::ptr::null_mut();
            let result = GetThreadDescription(thread, &mut text);
            CloseHandle(thread);
            if result < 0 || text.is_null() {
                return String::new();
            }
            let len = (0..).take_while(|&i| *text.add(i) != 0).count();
            let name = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
            LocalFree(text.cast());
            name
        }
    };
    let names = thread_ids(pid)?.into_iter().map(name);
    Some(
        names
            .map(|name| {
                if name.is_empty() {
                    "main".to_owned()
                } else {
                    name
                }
            })
            .collect(),
    )
}

/// How many handles of every kind (files, sockets, events, threads...) the
/// processes hold, from the system's handle table
/// (`SystemExtendedHandleInformation`, what Process Explorer reads):
/// `GetProcessHandleCount` would be simpler, but Wine always answers 0.
pub fn descriptors(pids: &[u32]) -> Option<usize> {
    const SYSTEM_EXTENDED_HANDLE_INFORMATION: i32 = 64;
    const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;
    let mut buffer: Vec<usize> = vec![0; 1 << 16];
    loop {
        // SAFETY: the buffer is as long as we say; the walk below stays in it.
        let status = unsafe {
            NtQuerySystemInformation(
                SYSTEM_EXTENDED_HANDLE_INFORMATION,
                buffer.as_mut_ptr().cast(),
                u32::try_from(buffer.len() * size_of::<usize>()).ok()?,
                std::ptr::null_mut(),
            )
        };
        if status == STATUS_INFO_LENGTH_MISMATCH {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if status != 0 {
            return None;
        }
        // A count, a reserved word, then entries of five words whose second
        // is the owning process.
        let count = buffer[0];
        if 2 + count * 5 > buffer.len() {
            return None;
        }
        let held = (0..count)
            .filter(|i| pids.contains(&(buffer[2 + i * 5 + 1] as u32)))
            .count();
        return Some(held);
    }
}

/// How many TCP connections the processes have open, not counting
/// listeners, from the system's TCP tables (what `netstat -ano` shows).
/// `None` when the tables name no owner at all, as under Wine, which leaves
/// every owner 0: on Windows at least the caller's own rows have one.
pub fn connections(pids: &[u32]) -> Option<usize> {
    // Once a table without owners is seen, it is not asked again: under Wine
    // each look takes seconds, as it searches every process for the socket.
    static OWNERS_REPORTED: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(true);
    if !OWNERS_REPORTED.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let v4 = tcp_table(AF_INET, |row: &MIB_TCPROW_OWNER_PID| {
        (row.dwState, row.dwOwningPid)
    })?;
    let v6 = tcp_table(AF_INET6, |row: &MIB_TCP6ROW_OWNER_PID| {
        (row.dwState, row.dwOwningPid)
    })?;
    let rows: Vec<(u32, u32)> = v4.into_iter().chain(v6).collect();
    if rows.iter().all(|&(_, owner)| owner == 0) {
        OWNERS_REPORTED.store(false, std::sync::atomic::Ordering::Relaxed);
        return None;
    }
    let open = rows
        .into_iter()
        .filter(|&(state, pid)| state != MIB_TCP_STATE_LISTEN as u32 && pids.contains(&pid))
        .count();
    Some(open)
}

/// The (state, owner) of each row of the TCP table of `family`, whose rows
/// are `Row`s after a 32-bit count (and padding to the row's alignment).
fn tcp_table<Row>(family: u16, fields: impl Fn(&Row) -> (u32, u32)) -> Option<Vec<(u32, u32)>> {
    const ERROR_INSUFFICIENT_BUFFER: u32 = 122;
    let mut buffer: Vec<u64> = vec![0; 4096];
    loop {
        let mut size = u32::try_from(buffer.len() * 8).ok()?;
        // SAFETY: the buffer is as long as `size` says.
        let result = unsafe {
            GetExtendedTcpTable(
                buffer.as_mut_ptr().cast(),
                &mut size,
                0,
                u32::from(family),
                TCP_TABLE_OWNER_PID_ALL,
                0,
            )
        };
        if result == ERROR_INSUFFICIENT_BUFFER {
            buffer.resize(size as usize / 8 + 1, 0);
            continue;
        }
        if result != 0 {
            return None;
        }
        let count = buffer[0] as u32 as usize;
        let offset = size_of::<u32>().next_multiple_of(align_of::<Row>());
        if offset + count * size_of::<Row>() > buffer.len() * 8 {
            return None;
        }
        // SAFETY: the system wrote `count` rows after the count, inside the
        // buffer (checked above), which is aligned for them.
        let rows = unsafe {
            std::slice::from_raw_parts(
                buffer.as_ptr().cast::<u8>().add(offset).cast::<Row>(),
                count,
            )
        };
        return Some(rows.iter().map(fields).collect());
    }
}

/// Not read here: a server listening on another port is found by the
/// reminder after a while instead.
pub fn listening(_pids: &[u32]) -> Option<Vec<std::net::SocketAddr>> {
    None
}

/// The accept queue is not exposed by Windows.
pub fn accept_queue(_port: u16) -> Option<usize> {
    None
}

/// "exited with status 1", and for the exception codes a crash or Ctrl-C
/// ends a program with, what they mean.
pub fn describe_exit(status: ExitStatus) -> String {
    let Some(code) = status.code() else {
        return format!("ended ({status})");
    };
    match code as u32 {
        STATUS_CONTROL_C_EXIT => "was ended by Ctrl-C (exit code 0xC000013A)".to_owned(),
        0xC000_0005 => "crashed (exit code 0xC0000005, access violation)".to_owned(),
        0xC000_00FD => "crashed (exit code 0xC00000FD, stack overflow)".to_owned(),
        0xC000_0409 => "aborted (exit code 0xC0000409)".to_owned(),
        exception @ 0xC000_0000.. => format!("crashed (exit code {exception:#X})"),
        _ => format!("exited with status {code}"),
    }
}

/// Run by the C runtime before `main`, in every program this module is linked
/// into (`.CRT$XCU` is its table of initialisers, as for C++'s static
/// constructors): in the Ctrl-C helper, does the helper's work and exits, so
/// that the program's own `main` (a test harness, a grader) never runs there.
#[used]
#[unsafe(link_section = ".CRT$XCU")]
static HELPER_HOOK: extern "C" fn() = helper_hook;

extern "C" fn helper_hook() {
    let Some(pid) = std::env::var_os(HELPER_ENV) else {
        return;
    };
    let code = match pid.to_str().and_then(|pid| pid.parse().ok()) {
        Some(pid) => send_ctrl_c_to_console_of(pid),
        None => 12,
    };
    // SAFETY: ends this process, which has nothing of its own to finish.
    unsafe { ExitProcess(code) };
}

/// Attaches to `pid`'s console and sends Ctrl-C to every process in it,
/// having turned it off for this process first (it is in that console now
/// too). Exits 10 when it cannot attach, 11 when it cannot send.
fn send_ctrl_c_to_console_of(pid: u32) -> u32 {
    // SAFETY: plain calls.
    unsafe {
        FreeConsole();
        if AttachConsole(pid) == 0 {
            return 10;
        }
        SetConsoleCtrlHandler(None, 1);
        if GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) == 0 {
            return 11;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    /// This very process, measured: its threads, their names, its handles,
    /// and its TCP connections (two ends of one, the listener not counted).
    /// Other tests run in this process at the same time, so the counts are
    /// checked against what this test holds, not compared over time.
    #[test]
    fn this_process_is_measured() {
        let me = [std::process::id()];
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _served = listener.accept().unwrap();
        // Under Wine the TCP table's owners are mostly left 0, and each look
        // takes seconds: not asked there (see .ci/wine/README.md).
        if !cfg!(wine) {
            assert_eq!(connections(&me), Some(2), "the two ends, not the listener");
        }
        // GetProcessHandleCount would say 0 under Wine; the table does not.
        let handles = descriptors(&me).expect("handles counted");
        assert!(handles >= 3, "three sockets, at least: {handles}");

        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let parked = std::thread::Builder::new()
            .name("parked-here".into())
            .spawn(move || stopped.recv())
            .unwrap();
        let count = threads(me[0]).expect("threads counted");
        let names = thread_names(me[0]).expect("threads named");
        assert!(count >= 2 && names.len() >= 2, "{count} threads: {names:?}");
        assert!(names.iter().any(|name| name == "parked-here"), "{names:?}");
        drop(stop);
        parked.join().unwrap().unwrap_err();
    }
}
