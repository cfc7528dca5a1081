//! Running `mariadb-dump` and `mariadb`: the dump streamed out of a child process, the client fed from a stream.

use std::io::{Read, Write};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

use super::error::JobError;
use super::spec::DbClient;

/// The options every dump gets after the connection arguments: a consistent InnoDB snapshot without locking
/// (`--single-transaction`), row by row (`--quick`), with stored programs, and `CREATE DATABASE`/`USE` so that
/// the dump names its database (`--databases`).
pub const DUMP_OPTIONS: [&str; 6] =
    ["--single-transaction", "--quick", "--routines", "--triggers", "--events", "--databases"];

/// How much of a program's standard error is kept for the error message.
const STDERR_KEEP: u64 = 8 * 1024;

/// Checks a database name: 1–64 characters out of `A-Z a-z 0-9 _ $ -`, not starting with `-`. This keeps the
/// name safe on a command line, in a snapshot file name and in the SQL this module writes.
pub fn check_database_name(name: &str) -> Result<(), JobError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(JobError::Invalid(format!("database name {name:?} is not allowed (A-Z, a-z, 0-9, _, $, -; at most 64)")))
    }
}

/// The dump command of one database: `dump_command args --single-transaction --quick --routines --triggers
/// --events --databases NAME`.
pub fn dump_command(db: &DbClient, database: &str) -> Command {
    let mut cmd = Command::new(&db.dump_command);
    cmd.args(&db.args).args(DUMP_OPTIONS).arg(database);
    cmd
}

/// The client command: `client_command args --binary-mode EXTRA…`.
pub fn client_command(db: &DbClient, extra: &[&str]) -> Command {
    let mut cmd = Command::new(&db.client_command);
    cmd.args(&db.args).arg("--binary-mode").args(extra);
    cmd
}

/// Collects the start of a child's standard error on a thread (so a chatty child never blocks on it).
fn collect_stderr(stderr: Option<ChildStderr>) -> Option<JoinHandle<String>> {
    let mut stderr = stderr?;
    Some(std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut stderr).take(STDERR_KEEP).read_to_end(&mut kept);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&kept).trim().to_string()
    }))
}

fn join_stderr(h: Option<JoinHandle<String>>) -> String {
    h.and_then(|h| h.join().ok()).unwrap_or_default()
}

fn status_text(s: ExitStatus) -> String {
    match s.code() {
        Some(c) => format!("exit code {c}"),
        None => format!("{s}"),
    }
}

/// The standard output of a running dump. At the end of the stream it waits for the dump and turns a failed
/// exit into a read error, so the engine never commits a snapshot of a truncated dump. Dropped early, it kills
/// the dump.
#[derive(Debug)]
pub struct DumpReader {
    what: String,
    child: Option<Child>,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    failure: Option<JobError>,
    finished: bool,
}

impl DumpReader {
    /// Starts the dump of `database`.
    pub fn start(db: &DbClient, database: &str) -> Result<DumpReader, JobError> {
        let mut child = dump_command(db, database)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| JobError::Spawn { command: db.dump_command.clone(), source })?;
        let stdout = child.stdout.take();
        let stderr = collect_stderr(child.stderr.take());
        Ok(DumpReader {
            what: format!("{} of database {database:?}", db.dump_command.display()),
            child: Some(child),
            stdout,
            stderr,
            failure: None,
            finished: false,
        })
    }

    /// Why the dump failed, if it did (taken out once).
    pub fn take_failure(&mut self) -> Option<JobError> {
        self.failure.take()
    }

    /// Whether the stream was read to its end and the dump exited successfully.
    pub fn finished(&self) -> bool {
        self.finished
    }

    fn wait(&mut self) -> std::io::Result<()> {
        self.stdout = None;
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let status = child.wait()?;
        let stderr = join_stderr(self.stderr.take());
        if status.success() {
            self.finished = true;
            Ok(())
        } else {
            let e = JobError::Command { command: self.what.clone(), status: status_text(status), stderr };
            let msg = e.to_string();
            self.failure = Some(e);
            Err(std::io::Error::other(msg))
        }
    }
}

impl Read for DumpReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(out) = self.stdout.as_mut() else {
            return match &self.failure {
                Some(e) => Err(std::io::Error::other(e.to_string())),
                None => Ok(0),
            };
        };
        match out.read(buf)? {
            0 if !buf.is_empty() => self.wait().map(|()| 0),
            n => Ok(n),
        }
    }
}

impl Drop for DumpReader {
    fn drop(&mut self) {
        self.stdout = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

/// Runs the client with `extra` arguments, feeding its standard input from `feed`; returns its standard output.
/// A failed exit is an error naming `what`; it wins over an error of `feed` (a broken pipe because the client
/// gave up is reported as the client's error).
pub fn run_client(
    db: &DbClient,
    extra: &[&str],
    what: &str,
    feed: impl FnOnce(&mut dyn Write) -> Result<(), JobError>,
) -> Result<String, JobError> {
    let mut child = client_command(db, extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| JobError::Spawn { command: db.client_command.clone(), source })?;
    let stderr = collect_stderr(child.stderr.take());
    let stdout = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    });
    let fed = match child.stdin.take() {
        Some(mut stdin) => {
            let r = feed(&mut stdin);
            drop(stdin);
            r
        }
        None => Ok(()),
    };
    let status = child.wait().map_err(|e| JobError::io("wait for", &db.client_command, e))?;
    let stderr = join_stderr(stderr);
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(JobError::Command { command: what.to_string(), status: status_text(status), stderr });
    }
    fed?;
    Ok(out)
}

/// Whether `database` exists on the server.
pub fn database_exists(db: &DbClient, database: &str) -> Result<bool, JobError> {
    check_database_name(database)?;
    let sql = format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{database}'");
    let out = run_client(db, &["--batch", "--skip-column-names", "-e", &sql], "database lookup", |_| Ok(()))?;
    Ok(out.trim() == "1")
}

/// Drops `database` if it exists.
pub fn drop_database(db: &DbClient, database: &str) -> Result<(), JobError> {
    check_database_name(database)?;
    let sql = format!("DROP DATABASE IF EXISTS `{database}`");
    run_client(db, &["-e", &sql], &format!("dropping database {database:?}"), |_| Ok(()))?;
    Ok(())
}
