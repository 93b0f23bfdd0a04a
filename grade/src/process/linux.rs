//! Linux: every count read from `/proc`.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

/// Whether threads can be counted here: Linux has a `/proc` folder per thread.
pub fn can_count_threads() -> bool {
    Path::new("/proc/self/task").is_dir()
}

/// The fields of `/proc/PID/stat` after the command, which may hold spaces and
/// parentheses: field 3 (the state) is the first (proc(5)).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let close = stat.rfind(')')?;
    Some(stat[close + 1..].split_whitespace().collect())
}

/// Field `n` (numbered as in proc(5)) of `/proc/PID/stat`, as a number.
fn stat_field(pid: u32, n: usize) -> Option<usize> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_fields(&stat)?.get(n - 3)?.parse().ok()
}

/// Every process in group `pgid`; `None` where there is no `/proc`.
pub fn group_pids(pgid: u32) -> Option<Vec<u32>> {
    let mut members = Vec::new();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // Field 5 is the group. A process may end between listing and
        // reading: it is left out.
        if stat_field(pid, 5) == Some(pgid as usize) {
            members.push(pid);
        }
    }
    Some(members)
}

/// The CPU time process `pid` has used, all its threads included: fields 14
/// and 15 of its `stat` (utime, stime), in clock ticks.
pub fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    // proc(5) counts in sysconf(_SC_CLK_TCK) ticks, which is the kernel's
    // USER_HZ: 100 on every architecture Linux runs on today. (Reading it
    // would need libc, for one constant.)
    const TICKS_PER_SECOND: u64 = 100;
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = stat_fields(&stat)?;
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let ticks = field(14)? + field(15)?;
    Some(std::time::Duration::from_millis(
        ticks * 1000 / TICKS_PER_SECOND,
    ))
}

/// How many threads process `pid` has: field 20 of its `stat`.
pub fn threads(pid: u32) -> Option<usize> {
    stat_field(pid, 20)
}

/// The names of process `pid`'s threads (`comm`: the program's name for the
/// main thread).
pub fn thread_names(pid: u32) -> Option<Vec<String>> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        tasks
            .filter_map(|task| fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .collect(),
    )
}

/// How many descriptors the processes have open: the entries of each one's
/// `/proc/PID/fd`.
pub fn descriptors(pids: &[u32]) -> Option<usize> {
    let count = |pid: &u32| Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count());
    Some(pids.iter().filter_map(count).sum())
}

/// How many TCP connections the processes have open, not counting listeners.
pub fn connections(pids: &[u32]) -> Option<usize> {
    Some(pids.iter().filter_map(|&pid| open_connections(pid)).sum())
}

/// How many TCP connections process `pid` has open, not counting listeners:
/// each descriptor that is a socket, looked up by its inode in the kernel's
/// tables of TCP sockets.
fn open_connections(pid: u32) -> Option<usize> {
    let mut connections = HashSet::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Field 3 is the state (0A is LISTEN), field 9 the inode.
            if let [_, _, _, state, _, _, _, _, _, inode, ..] = fields[..]
                && state != "0A"
            {
                connections.insert(format!("socket:[{inode}]"));
            }
        }
    }
    let descriptors = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(
        descriptors
            .filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| connections.contains(&*target.to_string_lossy()))
            .count(),
    )
}

/// The addresses the processes listen on for TCP connections: each
/// descriptor that is a socket, looked up by its inode among the kernel's
/// listening sockets.
pub fn listening(pids: &[u32]) -> Option<Vec<std::net::SocketAddr>> {
    let mut found = Vec::new();
    for &pid in pids {
        let mut listeners = std::collections::HashMap::new();
        for (table, v6) in [("tcp", false), ("tcp6", true)] {
            let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if let [_, local, _, "0A", _, _, _, _, _, inode, ..] = fields[..]
                    && let Some(addr) = parse_address(local, v6)
                {
                    listeners.insert(format!("socket:[{inode}]"), addr);
                }
            }
        }
        let Ok(descriptors) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in descriptors.filter_map(Result::ok) {
            if let Ok(target) = fs::read_link(fd.path())
                && let Some(addr) = listeners.get(&*target.to_string_lossy())
                && !found.contains(addr)
            {
                found.push(*addr);
            }
        }
    }
    Some(found)
}

/// An address as `/proc/net/tcp` writes it: the IP in hex, in the kernel's
/// byte order (32-bit words, little-endian here), then `:` and the port.
fn parse_address(text: &str, v6: bool) -> Option<std::net::SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|n| u32::from_str_radix(&ip[n * 8..n * 8 + 8], 16).map(u32::from_be))
        .collect::<Result<_, _>>()
        .ok()?;
    let ip: std::net::IpAddr = match (v6, &words[..]) {
        (false, [word]) => std::net::Ipv4Addr::from(word.to_be_bytes()).into(),
        (true, [a, b, c, d]) => {
            let bytes: Vec<u8> = [a, b, c, d].iter().flat_map(|w| w.to_be_bytes()).collect();
            let bytes: [u8; 16] = bytes.try_into().ok()?;
            std::net::Ipv6Addr::from(bytes).into()
        }
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

/// How many connections wait, accepted by the kernel but not yet by the
/// server, on the listening socket at `port`: the `rx_queue` column of its
/// line in `/proc/net/tcp` (or `tcp6`), which for a listening socket is the
/// accept queue. `None` if it cannot be found.
pub fn accept_queue(port: u16) -> Option<usize> {
    use std::io::BufRead;
    let wanted = format!(":{port:04X}");
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(file) = fs::File::open(table) else {
            continue;
        };
        // The kernel lists listening sockets first: the lines after them
        // (ten thousand, in `ten-thousand-idle`) need not be read, or even
        // written, which is what makes this cheap enough to ask often.
        for line in std::io::BufReader::new(file).lines().skip(1) {
            let Ok(line) = line else { break };
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx_queue:rx_queue ...; 0A is LISTEN.
            let [_, local, _, state, queues, ..] = fields[..] else {
                continue;
            };
            if state != "0A" {
                break;
            }
            if local.ends_with(&wanted) {
                let rx = queues.split(':').nth(1)?;
                return usize::from_str_radix(rx, 16).ok();
            }
        }
    }
    None
}
