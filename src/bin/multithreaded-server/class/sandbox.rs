//! Where a submission's code runs: in a bubblewrap sandbox on Linux, or, when
//! the instructor says so (`--no-sandbox`), as the grading user.
//!
//! The sandbox is bubblewrap (`bwrap`, the sandbox Flatpak runs on), driven
//! from its command line, with the limits set by util-linux's `prlimit`:
//! well-kept tools both, in every Linux distribution. Each submission gets
//! one sandbox for its build and one for its grading:
//!
//! - **Network:** a network namespace of its own, with nothing but a
//!   loopback. The grader runs inside it too, so its connections to the
//!   server are loopback connections there; nothing else is reachable, the
//!   machine's own loopback listeners included, and no two submissions share
//!   a port. (A build may be given the network with `build-network`.)
//! - **Files:** the whole system read-only, but with empty folders over the
//!   homes, `/tmp`, `/run`, the submissions, the other copies and the
//!   output; the submission's own copy at `/run/submission`, writable; a fresh
//!   `/tmp`. The toolchains under a home (`~/.cargo/bin`, `~/.rustup`,
//!   `~/.pyenv`) are shown again, read-only, and no secrets beside them.
//! - **Processes:** a PID namespace of its own, so nothing outside it can be
//!   seen or signalled, and all of it ends with the sandbox; a session of its
//!   own, so it cannot type into the instructor's terminal.
//! - **Limits** on the build and the server (not the grader): processes and
//!   threads, memory per process, CPU time, open files and file size; and a
//!   wall time per submission, after which its sandbox is ended.
//! - **Environment:** cleared, but for `PATH`, a `HOME` in the fresh `/tmp`,
//!   the language, and where Cargo and rustup keep their toolchains.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::classfile::Limits;

/// Where the submission's copy is inside the sandbox.
pub const INSIDE: &str = "/run/submission";
/// Where the grader's binary is inside the sandbox.
const GRADER_INSIDE: &str = "/run/grader/multithreaded-server";

/// How submissions are run.
#[derive(Clone, Debug)]
pub enum Sandbox {
    /// In bubblewrap, hiding these host folders (the submissions, the
    /// copies, the output) besides the usual ones. `as_root` when grading as
    /// root: each submission then runs as a user of its own (see
    /// [`FIRST_UID`]).
    Bwrap { hide: Vec<PathBuf>, as_root: bool },
    /// As the grading user, unconfined.
    None,
}

/// A step of a submission's grading.
pub enum Step<'a> {
    /// Run the recipe's build line.
    Build(&'a str),
    /// Run the grader on the recipe's run line, with these arguments for it.
    Grade { grader: &'a Path, args: Vec<String> },
}

/// The first of the users submissions run as when the grader runs as root,
/// one user a submission (this one plus its place in the class). Root is
/// exempt from the process limit (the kernel does not count its processes
/// against RLIMIT_NPROC, in any namespace), so a submission graded by root
/// in a user namespace of its own could fork without end. So, as root, the
/// sandbox has no user namespace: the grader runs in it as root, keeping
/// only the capabilities to change user, signal and trace; and the build and
/// the server run as the submission's own user, with none. They cannot
/// signal the grader; and the limit counts each submission's processes
/// alone (RLIMIT_NPROC counts a user's), so that one student's fork bomb
/// takes nothing from another's grading. No account is needed for them.
pub const FIRST_UID: u32 = 200_000;

/// Whether this process runs as root.
pub fn running_as_root() -> bool {
    #[cfg(unix)]
    return rustix::process::geteuid().is_root();
    #[cfg(not(unix))]
    return false;
}

/// Gives the copy of a submission to `uid`, who builds and runs it when root
/// grades.
pub fn hand_over(copy: &Path, uid: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::chown(copy, Some(uid), Some(uid))?;
        for entry in std::fs::read_dir(copy)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                hand_over(&entry.path(), uid)?;
            } else {
                std::os::unix::fs::chown(entry.path(), Some(uid), Some(uid))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (copy, uid);
    Ok(())
}

/// Why no sandbox can be had; the error says what to do.
pub fn check_bwrap() -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        anyhow::bail!(
            "grade-class sandboxes submissions on Linux only (with bubblewrap); here, give --no-sandbox to run them as you, unconfined"
        );
    }
    let probe = Command::new("bwrap")
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-all",
            "--die-with-parent",
            "true",
        ])
        .output();
    match probe {
        Err(_) => anyhow::bail!(
            "bubblewrap (`bwrap`) is not installed: `sudo apt-get install bubblewrap` (or give --no-sandbox to run submissions unconfined)"
        ),
        Ok(out) if !out.status.success() => anyhow::bail!(
            "bubblewrap cannot make a sandbox here: {} (on Ubuntu 24.04 and later, AppArmor must allow bwrap's user namespaces; its bwrap-userns-restrict profile does)",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
    for tool in ["prlimit", "setpriv"] {
        let found = Command::new(tool).arg("--version").output();
        if !found.is_ok_and(|out| out.status.success()) {
            anyhow::bail!(
                "`{tool}` (from util-linux) is not installed; it sets the sandbox's limits and user"
            );
        }
    }
    Ok(())
}

/// The limits as `prlimit` options: both soft and hard, so that nothing in
/// the sandbox can raise them; and, as root, the change to the submission's
/// user first.
fn prlimit(limits: &Limits, as_root: bool, uid: u32) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    if as_root {
        args.extend([
            "setpriv".into(),
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--no-new-privs".into(),
            "--".into(),
        ]);
    }
    args.extend([
        "prlimit".into(),
        format!("--nproc={}", limits.processes),
        format!("--data={}", limits.memory),
        format!("--cpu={}", limits.cpu.as_secs().max(1)),
        format!("--nofile={}", limits.open_files),
        format!("--fsize={}", limits.file_size),
        "--core=0".into(),
        "--".into(),
    ]);
    args
}

/// The shell line as a command: `sh -c 'exec LINE'` (so that the server is
/// the process the grader started, and gets its signals itself), or
/// `cmd /C LINE` on Windows.
pub fn shell(line: &str, exec: bool) -> Vec<String> {
    if cfg!(windows) {
        vec!["cmd".into(), "/C".into(), line.into()]
    } else if exec {
        vec!["sh".into(), "-c".into(), format!("exec {line}")]
    } else {
        vec!["sh".into(), "-c".into(), line.into()]
    }
}

/// Folders under a hidden one to show again, read-only: the toolchains on
/// the PATH and Cargo's and rustup's, but nothing that may hold a secret.
fn toolchains(hidden: &[PathBuf]) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut shown = Vec::new();
    let mut show = |path: PathBuf| {
        if path.exists() && !shown.contains(&path) {
            shown.push(path);
        }
    };
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".cargo")));
    if let Some(cargo) = &cargo_home {
        // Not `credentials.toml`, nor `config.toml` (which may hold tokens).
        for part in ["bin", "registry", "git"] {
            show(cargo.join(part));
        }
    }
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".rustup")));
    if let Some(rustup) = rustup_home {
        show(rustup);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for folder in std::env::split_paths(&path) {
        let Some(under) = hidden.iter().find(|h| folder.starts_with(h)) else {
            continue;
        };
        if cargo_home.as_ref().is_some_and(|c| folder.starts_with(c)) {
            continue;
        }
        // ~/.pyenv/shims needs all of ~/.pyenv; ~/.local/bin needs only its
        // own folder and ~/.local/lib (not ~/.local/share, with keyrings).
        let relative = folder.strip_prefix(under).unwrap_or(&folder);
        let mut parts = relative.components();
        let Some(top) = parts.next() else { continue };
        let top = under.join(top);
        if top.file_name().is_some_and(|n| n == ".local") {
            show(folder.clone());
            show(top.join("lib"));
        } else if top
            .file_name()
            .is_some_and(|n| n == ".ssh" || n == ".gnupg" || n == ".config")
        {
            continue;
        } else {
            show(top);
        }
    }
    shown
}

impl Sandbox {
    /// The command that runs `step` for the submission whose copy is `copy`.
    pub fn command(&self, step: &Step, copy: &Path, limits: &Limits, uid: u32) -> Command {
        let inner: Vec<String> = match step {
            Step::Build(line) => {
                let mut args = match self {
                    Sandbox::Bwrap { as_root, .. } => prlimit(limits, *as_root, uid),
                    Sandbox::None => Vec::new(),
                };
                args.extend(shell(line, false));
                args
            }
            Step::Grade { grader, args } => {
                let program = match self {
                    Sandbox::Bwrap { .. } => GRADER_INSIDE.to_owned(),
                    Sandbox::None => grader.display().to_string(),
                };
                let mut all = vec![program];
                all.extend(args.iter().cloned());
                all
            }
        };
        match self {
            Sandbox::None => {
                let mut command = Command::new(&inner[0]);
                command.args(&inner[1..]).current_dir(copy);
                command
            }
            Sandbox::Bwrap { hide, as_root } => {
                let mut command = Command::new("bwrap");
                command.env_clear();
                for (key, value) in environment(INSIDE) {
                    command.env(key, value);
                }
                let network = matches!(step, Step::Build(_)) && limits.build_network;
                command.args(bwrap_args(hide, copy, limits, network, *as_root));
                if let Step::Grade { grader, .. } = step {
                    command.arg("--ro-bind").arg(grader).arg(GRADER_INSIDE);
                }
                command.arg("--").args(&inner);
                command
            }
        }
    }

    /// The limits the server runs under, as the start of its command
    /// (nothing without a sandbox).
    pub fn server_prefix(&self, limits: &Limits, uid: u32) -> Vec<String> {
        match self {
            Sandbox::Bwrap { as_root, .. } => prlimit(limits, *as_root, uid),
            Sandbox::None => Vec::new(),
        }
    }
}

/// The environment inside: only what builds and servers need.
fn environment(inside: &str) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("HOME".into(), "/tmp/home".into()),
        ("TMPDIR".into(), "/tmp".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("SUBMISSION".into(), inside.into()),
    ];
    for key in [
        "PATH",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "JAVA_HOME",
        "PYENV_ROOT",
        "PYENV_VERSION",
        "GOROOT",
    ] {
        if let Some(value) = std::env::var_os(key) {
            env.push((key.into(), value));
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    // Cargo and rustup find their homes from HOME, which is another inside.
    if std::env::var_os("CARGO_HOME").is_none()
        && let Some(home) = &home
    {
        env.push(("CARGO_HOME".into(), home.join(".cargo").into()));
    }
    if std::env::var_os("RUSTUP_HOME").is_none()
        && let Some(home) = &home
    {
        env.push(("RUSTUP_HOME".into(), home.join(".rustup").into()));
    }
    if std::env::var_os("PYENV_ROOT").is_none()
        && let Some(home) = &home
        && home.join(".pyenv").is_dir()
    {
        env.push(("PYENV_ROOT".into(), home.join(".pyenv").into()));
    }
    env
}

fn bwrap_args(
    hide: &[PathBuf],
    copy: &Path,
    limits: &Limits,
    network: bool,
    as_root: bool,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
        for item in items {
            args.push(item.as_ref().to_owned());
        }
    };
    push(&[&"--die-with-parent", &"--new-session"]);
    if as_root {
        // No user namespace (see FIRST_UID): the grader keeps only what it
        // needs to start the server as another user, signal it and count it.
        push(&[&"--cap-drop", &"ALL"]);
        for cap in ["CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_SYS_PTRACE"] {
            push(&[&"--cap-add", &cap]);
        }
    } else {
        push(&[&"--unshare-user"]);
    }
    push(&[&"--unshare-pid", &"--unshare-ipc", &"--unshare-uts"]);
    push(&[&"--unshare-cgroup-try"]);
    if !network {
        push(&[&"--unshare-net"]);
    }
    push(&[
        &"--ro-bind",
        &"/",
        &"/",
        &"--dev",
        &"/dev",
        &"--proc",
        &"/proc",
    ]);
    // The usual places for other people's files, and for sockets that reach
    // services (D-Bus, Docker) outside the network namespace.
    let mut hidden: Vec<PathBuf> = [
        "/tmp", "/var/tmp", "/run", "/home", "/root", "/mnt", "/media", "/srv",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_dir())
    .collect();
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
        && home.is_dir()
        && !hidden.iter().any(|h| home.starts_with(h))
    {
        hidden.push(home);
    }
    for path in hide {
        if !hidden.iter().any(|h| path.starts_with(h)) && path.is_dir() {
            hidden.push(path.clone());
        }
    }
    for path in &hidden {
        // Writable by all, as /tmp is, for the user the submission runs as.
        push(&[&"--perms", &"1777", &"--tmpfs", path]);
    }
    for path in toolchains(&hidden).iter().chain(&limits.expose) {
        // The folders on the way, in an empty folder over a home, are made
        // for the mount; bubblewrap would make them 0700, which another user
        // (the submission's, as root grades) could not pass through.
        if let Some(under) = hidden.iter().find(|h| path.starts_with(h)) {
            let mut between: Vec<&Path> = path
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(under) && *a != under.as_path())
                .collect();
            between.reverse();
            for folder in between {
                push(&[&"--perms", &"0755", &"--dir", &folder]);
            }
        }
        push(&[&"--ro-bind", path, path]);
    }
    push(&[&"--perms", &"1777", &"--dir", &"/tmp/home"]);
    push(&[&"--bind", &copy, &INSIDE, &"--chdir", &INSIDE]);
    args
}
