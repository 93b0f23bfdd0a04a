//! Processes: what the tests and the grader do to a server they start.
//!
//! On Linux the grader starts the server in a process group of its own, sends
//! the group SIGINT for Ctrl-C, and kills the group at the end. These probes
//! try what stands in for each on Windows: a job object for the group, a
//! console control event for Ctrl-C.

use std::io::{BufRead, BufReader, Read};
use std::os::windows::io::AsRawHandle;
use std::os::windows::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, HANDLE};
use windows_sys::Win32::System::Console::{
    AllocConsole, AttachConsole, CTRL_BREAK_EVENT, CTRL_C_EVENT, FreeConsole,
    GenerateConsoleCtrlEvent, GetConsoleProcessList, GetStdHandle, STD_ERROR_HANDLE,
    STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, SetConsoleCtrlHandler, SetStdHandle,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOBOBJECT_BASIC_PROCESS_ID_LIST,
    JobObjectBasicProcessIdList, QueryInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_CONSOLE, CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_SUSPENDED, OpenThread,
    ResumeThread, THREAD_SUSPEND_RESUME,
};

use crate::{Context, Seen, differs, ensure, works};

/// This program, started again as `child <mode>`.
pub fn child(mode: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("current_exe"));
    command.arg("child").args(mode);
    command
}

/// Waits up to `timeout` for `child` to exit, and kills it if it does not.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Option<i32>, String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().context("try_wait")? {
            return Ok(status.code());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(None)
}

pub fn child_output() -> Seen {
    let output = child(&["echo"]).output().context("spawn")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure(
        stdout == "to stdout" && stderr == "to stderr" && output.status.code() == Some(7),
        || format!("stdout {stdout:?}, stderr {stderr:?}, {}", output.status),
    )?;
    works("both pipes read, exit code 7 seen".into())
}

pub fn kill() -> Seen {
    let mut sleeper = child(&["sleep"]).spawn().context("spawn")?;
    let started = Instant::now();
    sleeper.kill().context("kill")?;
    let status = sleeper.wait().context("wait")?;
    // TerminateProcess: the exit code is the one given to it (std gives 1),
    // there is no "killed by a signal".
    works(format!(
        "ended in {} ms, {status}",
        started.elapsed().as_millis()
    ))
}

pub fn linux_program() -> Seen {
    let mut seen = Vec::new();
    for program in ["python3", "/usr/bin/python3"] {
        let result = Command::new(program).args(["-c", "print(6 * 7)"]).output();
        match result {
            Ok(output) => seen.push(format!(
                "{program}, piped: {} {:?}",
                output.status,
                String::from_utf8_lossy(&output.stdout).trim()
            )),
            Err(error) => seen.push(format!("{program}, piped: {error}")),
        }
    }
    // Without pipes: does it start at all?
    let status = Command::new("/usr/bin/python3")
        .args(["-c", "raise SystemExit(42)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let started = matches!(&status, Ok(status) if status.code() == Some(42));
    seen.push(match status {
        Ok(status) => format!("/usr/bin/python3, no pipes: {status}"),
        Err(error) => format!("/usr/bin/python3, no pipes: {error}"),
    });
    let all = seen.join("; ");
    ensure(
        started || seen.iter().any(|line| line.ends_with("\"42\"")),
        || all.clone(),
    )?;
    works(all)
}

pub fn cmd() -> Seen {
    let output = Command::new("cmd")
        .args(["/c", "echo hello"])
        .output()
        .context("spawn cmd")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure(stdout.trim() == "hello", || {
        format!("{}: {stdout:?}", output.status)
    })?;
    works(format!("{}, printed {:?}", output.status, stdout.trim()))
}

/// A job object stands in for a process group: it takes in the whole tree a
/// server starts (a `cargo run` and its server, a `python` launcher and its
/// interpreter), and ends the whole tree at once.
pub fn job_object() -> Seen {
    // SAFETY: plain Win32 calls on handles this function owns.
    unsafe {
        let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        ensure(!job.is_null(), || {
            format!("CreateJobObject: error {}", GetLastError())
        })?;
        // Suspended, so that it cannot start a grandchild before it is in the
        // job: a child started later is in its parent's job from the start.
        let mut tree = child(&["tree"])
            .creation_flags(CREATE_SUSPENDED)
            .stdout(Stdio::piped())
            .spawn()
            .context("spawn suspended")?;
        let assigned = AssignProcessToJobObject(job, tree.as_raw_handle() as HANDLE);
        let resumed = resume(tree.id());
        let seen = (|| {
            ensure(assigned != 0, || {
                format!("AssignProcessToJobObject: error {}", GetLastError())
            })?;
            resumed?;
            let mut line = String::new();
            BufReader::new(tree.stdout.take().unwrap())
                .read_line(&mut line)
                .context("read the grandchild's pid")?;
            let grandchild: u32 = line.trim().parse().context("grandchild pid")?;
            let members = job_members(job)?;
            ensure(
                members.contains(&tree.id()) && members.contains(&grandchild),
                || {
                    format!(
                        "the job holds {members:?}; child {}, grandchild {grandchild}",
                        tree.id()
                    )
                },
            )?;
            ensure(TerminateJobObject(job, 9) != 0, || {
                format!("TerminateJobObject: error {}", GetLastError())
            })?;
            let code = wait_or_kill(&mut tree, Duration::from_secs(10))?;
            ensure(code == Some(9), || format!("the child ended with {code:?}"))?;
            let left = job_members(job)?;
            ensure(left.is_empty(), || format!("still in the job: {left:?}"))?;
            works(format!(
                "child and grandchild were in the job; TerminateJobObject ended both (exit code {})",
                code.unwrap()
            ))
        })();
        let _ = tree.kill();
        let _ = tree.wait();
        CloseHandle(job);
        seen
    }
}

/// Resumes every thread of a process started suspended.
fn resume(pid: u32) -> Result<(), String> {
    let threads = crate::system::thread_ids(pid)?;
    ensure(!threads.is_empty(), || {
        format!("no threads found for {pid}")
    })?;
    for id in threads {
        // SAFETY: the handle is checked and closed.
        unsafe {
            let thread = OpenThread(THREAD_SUSPEND_RESUME, 0, id);
            ensure(!thread.is_null(), || {
                format!("OpenThread: error {}", GetLastError())
            })?;
            let previous = ResumeThread(thread);
            CloseHandle(thread);
            ensure(previous != u32::MAX, || {
                format!("ResumeThread: error {}", GetLastError())
            })?;
        }
    }
    Ok(())
}

fn job_members(job: HANDLE) -> Result<Vec<u32>, String> {
    // Room for 64 processes: the header, then one pid a slot.
    let mut buffer = [0usize; 66];
    // SAFETY: the buffer is as large as the length says, and aligned for the struct.
    unsafe {
        let ok = QueryInformationJobObject(
            job,
            JobObjectBasicProcessIdList,
            buffer.as_mut_ptr().cast(),
            std::mem::size_of_val(&buffer) as u32,
            std::ptr::null_mut(),
        );
        ensure(ok != 0, || {
            format!("QueryInformationJobObject: error {}", GetLastError())
        })?;
        let list = &*buffer.as_ptr().cast::<JOBOBJECT_BASIC_PROCESS_ID_LIST>();
        let ids = std::slice::from_raw_parts(
            list.ProcessIdList.as_ptr(),
            list.NumberOfProcessIdsInList as usize,
        );
        Ok(ids.iter().map(|&id| id as u32).collect())
    }
}

/// How many processes share this one's console; none means it has none.
fn console_processes() -> u32 {
    let mut ids = [0u32; 16];
    // SAFETY: the buffer holds as many ids as we say.
    unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) }
}

pub fn console() -> Seen {
    match console_processes() {
        0 => Err(format!(
            "no console (GetConsoleProcessList: error {})",
            unsafe { GetLastError() }
        )),
        n => works(format!("a console shared by {n} process(es)")),
    }
}

/// For a grader started with no console (a service, a CI runner): give it
/// one, which the children it starts share. A process Wine starts without a
/// terminal has a console handle but no console: it has to let go of that
/// first, or AllocConsole refuses (error 5).
pub fn own_console() -> Seen {
    if console_processes() != 0 {
        return works("already has one".into());
    }
    // SAFETY: plain calls.
    unsafe {
        // AllocConsole points standard output at the new console; this
        // program's report goes where it went before.
        let streams = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE];
        let saved = streams.map(|stream| GetStdHandle(stream));
        FreeConsole();
        let allocated = AllocConsole();
        let error = GetLastError();
        for (stream, handle) in streams.into_iter().zip(saved) {
            SetStdHandle(stream, handle);
        }
        ensure(allocated != 0, || {
            format!("AllocConsole failed (error {error})")
        })?;
    }
    console()
}

/// Starts `child <mode>` with creation `flags` and waits for its "ready".
fn start_ready(mode: &[&str], flags: u32) -> Result<(Child, BufReader<ChildStdout>), String> {
    let mut server = child(mode)
        .creation_flags(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("spawn")?;
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    let read = stdout.read_line(&mut line);
    if read.is_err() || line.trim() != "ready" {
        let _ = server.kill();
        let _ = server.wait();
        return Err(format!("the child said {line:?} ({read:?})"));
    }
    Ok((server, stdout))
}

/// Starts the `ctrlc` child (`mode`) with `flags`, has `send` send it the
/// event (saying how, or why it could not), and reports whether its handler
/// ran.
fn ctrl_reaches(
    mode: &[&str],
    flags: u32,
    send: impl FnOnce(u32) -> Result<&'static str, String>,
) -> Seen {
    let (mut server, mut stdout) = start_ready(mode, flags)?;
    let sent = send(server.id());
    // An event that was not sent will not come: no need to wait for it.
    let wait = if sent.is_ok() {
        Duration::from_secs(10)
    } else {
        Duration::ZERO
    };
    let code = wait_or_kill(&mut server, wait)?;
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let sent = sent?;
    ensure(code == Some(0) && rest.trim() == "caught", || {
        format!("{sent}; the child's handler did not run (exit {code:?}, said {rest:?})")
    })?;
    works(format!("{sent}; the child's handler ran and it exited 0"))
}

/// Sends `event` to the process group `pid` leads.
fn generate(event: u32, pid: u32) -> Result<&'static str, String> {
    // SAFETY: a plain call.
    if unsafe { GenerateConsoleCtrlEvent(event, pid) } == 0 {
        return Err(format!(
            "GenerateConsoleCtrlEvent failed (error {})",
            unsafe { GetLastError() }
        ));
    }
    Ok("sent")
}

/// Starts the `ctrlc` child in a new process group and sends it `event`.
fn send_ctrl(event: u32, mode: &[&str]) -> Seen {
    ctrl_reaches(mode, CREATE_NEW_PROCESS_GROUP, |pid| generate(event, pid))
}

/// What Python's documentation and most tools do: Ctrl-Break reaches a new
/// process group, and the `ctrlc` crate handles it like Ctrl-C.
pub fn ctrl_break() -> Seen {
    send_ctrl(CTRL_BREAK_EVENT, &["ctrlc"])
}

/// Windows turns Ctrl-C off in a new process group, so this one is expected
/// to fail on Windows too.
pub fn ctrl_c() -> Seen {
    send_ctrl(CTRL_C_EVENT, &["ctrlc"])
}

/// A child that turns Ctrl-C back on, as a server of the course's could.
pub fn ctrl_c_enabled() -> Seen {
    send_ctrl(CTRL_C_EVENT, &["ctrlc", "on"])
}

/// Runs the helper (`child send-ctrl-c`) against `pid`.
fn helper(pid: u32) -> Result<&'static str, String> {
    let status = child(&["send-ctrl-c", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("run the helper")?;
    match status.code() {
        Some(0) => Ok("sent"),
        Some(10) => Err("the helper could not attach to the console".into()),
        Some(11) => Err("the helper could not send the event".into()),
        _ => Err(format!("the helper {status}")),
    }
}

/// What a terminal does, for any server in any language: the server runs in a
/// console of its own (`flags`: CREATE_NEW_CONSOLE, or CREATE_NO_WINDOW for
/// one with no window), in no new group, so Ctrl-C is on; a helper process
/// attaches to that console and sends CTRL_C to everyone in it. A helper,
/// because a process has one console at a time and attaching is process-wide.
fn ctrl_c_through_console(flags: u32) -> Seen {
    ctrl_reaches(&["ctrlc"], flags, helper)
}

pub fn ctrl_c_new_console() -> Seen {
    ctrl_c_through_console(CREATE_NEW_CONSOLE)
}

pub fn ctrl_c_hidden_console() -> Seen {
    ctrl_c_through_console(CREATE_NO_WINDOW)
}

/// A server with no handler: Windows ends it with STATUS_CONTROL_C_EXIT
/// (0xC000013A), its "killed by SIGINT".
pub fn ctrl_c_no_handler() -> Seen {
    let (mut server, _stdout) = start_ready(&["threads", "0"], CREATE_NO_WINDOW)?;
    let sent = helper(server.id());
    let code = wait_or_kill(&mut server, Duration::from_secs(10))?;
    sent?;
    match code {
        Some(code) if code == 0xC000_013A_u32 as i32 => {
            works("ended with 0xC000013A, STATUS_CONTROL_C_EXIT".into())
        }
        // Ended by the event, but with the wrong code: a grader cannot tell
        // "killed by Ctrl-C" from "caught it and exited 0" under Wine.
        Some(code) => differs(format!(
            "ended with exit code {code}; Windows gives 0xC000013A (STATUS_CONTROL_C_EXIT)"
        )),
        None => Err("sent; the child did not end".into()),
    }
}

/// Without a helper: this process attaches to the server's console itself
/// and sends. A process has one console at a time, so a grader doing this
/// would lock around it, lose its own console (run from a terminal, its
/// output would vanish: so this probe is not tried with one), and have to
/// leave Ctrl-C off for itself, since the event reaches it too, later. Every
/// program it starts afterwards inherits Ctrl-C off: a server started after
/// this probe ignores Ctrl-C unless it turns it back on. Hence the helper.
pub fn ctrl_c_in_process() -> Seen {
    ensure(console_processes() == 0, || {
        "not tried: this process has a console, which attaching would take from it".into()
    })?;
    ctrl_reaches(&["ctrlc"], CREATE_NO_WINDOW, |pid| {
        // SAFETY: plain calls; the handles saved are put back as they were.
        unsafe {
            let streams = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE];
            let saved = streams.map(|stream| GetStdHandle(stream));
            FreeConsole();
            let sent = if AttachConsole(pid) == 0 {
                Err(format!("AttachConsole failed (error {})", GetLastError()))
            } else {
                SetConsoleCtrlHandler(None, 1);
                generate(CTRL_C_EVENT, 0)
            };
            FreeConsole();
            for (stream, handle) in streams.into_iter().zip(saved) {
                SetStdHandle(stream, handle);
            }
            sent
        }
    })
}

/// The helper: attach to `pid`'s console, ignore Ctrl-C ourselves, send it.
/// Exit 10 when it cannot attach, 11 when it cannot send.
pub fn send_ctrl_c(pid: u32) -> i32 {
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

/// `SetConsoleCtrlHandler(NULL, FALSE)`: Ctrl-C is handled again.
pub fn enable_ctrl_c() {
    // SAFETY: a plain call.
    unsafe { SetConsoleCtrlHandler(None, 0) };
}
