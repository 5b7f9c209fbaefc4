//! Running commands and locating the workspace.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

/// The workspace root (the xtask lives one level below it). Taken from the `CARGO_MANIFEST_DIR`
/// that `cargo run` sets at run time: a target dir shared by several checkouts (CI's persistent one)
/// may hold an xtask binary compiled in another checkout, whose compile-time path would be stale.
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().map(PathBuf::from).unwrap_or_default()
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The program and arguments of `cmd`, for logs: never its environment, which may hold secrets.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd`, inheriting stdio; fails with the command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let line = describe(cmd);
    eprintln!("xtask: $ {line}");
    let status = cmd.status().map_err(|e| format!("cannot start {line}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{line} failed ({status})")) }
}

/// Runs `cmd` quietly and reports whether it succeeded.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

/// `cargo` with the given arguments, run at the workspace root.
pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(root());
    cmd
}
