//! `cargo xtask conformance`: the SCIM 2.0 service provider checked by scim2-tester (python-scim),
//! against a live server on a fresh SQLite database.
//!
//! The tester runs from `end2end/scim_conformance.py` in a virtualenv at
//! `$CARGO_TARGET_DIR/py-venv` holding the pinned `end2end/requirements.txt` (created with
//! `python3 -m venv` and installed from PyPI when missing or when the requirements change). The
//! run fails when any check fails; the script lists every check and explains each waived one.

use std::{fs, path::PathBuf, process::Command};

use crate::{
    build::Built,
    cmd::{self, root, target_dir},
    server_proc,
};

/// The conformance server's port (the console's default is 3000, Playwright's its own).
const PORT: u16 = 3020;

/// Runs every scim2-tester check against `built`'s server.
pub fn run(built: &Built) -> Result<(), String> {
    let python = venv()?;
    let dir = target_dir().join("conformance");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let db = dir.join("scimpad-conformance.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let db_url = format!("sqlite://{}?mode=rwc", db.display());

    // Dropped on every way out of this function, which stops the server.
    let server = server_proc::start(&built.server_bin, &db_url, PORT, &built.site_root)?;
    let key = server_proc::create_org_and_key(&built.server_bin, &db_url)?;
    // Through a file: `cmd::run` echoes the command line with its environment.
    let key_file = dir.join("api-key");
    fs::write(&key_file, key).map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
    cmd::run(
        Command::new(&python)
            .arg(root().join("end2end").join("scim_conformance.py"))
            .arg(format!("{}/scim/v2", server.url()))
            .env("SCIM_TOKEN_FILE", &key_file)
            .env_remove("SCIM_TOKEN")
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    )
    .map_err(|e| format!("{e}\n  SCIM conformance: see the FAIL lines above (end2end/scim_conformance.py)"))
}

/// The virtualenv's python, with `end2end/requirements.txt` installed (a no-op when the
/// requirements are unchanged since the last install).
fn venv() -> Result<PathBuf, String> {
    let venv = target_dir().join("py-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        cmd::run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).map_err(|e| {
            format!(
                "{e}\n  the SCIM conformance run needs Python 3.11+ with venv and pip (Debian: python3-venv)"
            )
        })?;
    }
    let requirements = root().join("end2end").join("requirements.txt");
    let wanted =
        fs::read(&requirements).map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let stamp = venv.join("installed-requirements.txt");
    if fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(python);
    }
    cmd::run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
    )
    .map_err(|e| format!("{e}\n  needs access to PyPI (scim2-tester and its dependencies)"))?;
    fs::write(&stamp, &wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}
