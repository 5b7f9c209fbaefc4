//! Building the console: frontend to wasm32, wasm-bindgen (as a library, no CLI to install),
//! wasm-opt for a release, CSS and public assets into the site directory, every console file
//! precompressed (`assets`), then the server binary.

use std::{fs, path::PathBuf, process::Command};

use crate::{
    assets,
    cmd::{self, cargo, root, target_dir},
    setup,
};

/// Where a build put its results.
pub struct Built {
    pub server_bin: PathBuf,
    pub site_root: PathBuf,
}

/// Builds frontend, assets and server.
pub fn build(release: bool) -> Result<Built, String> {
    setup::wasm_target()?;
    setup::saml_libraries()?;
    let site_root = target_dir().join("site");
    let pkg = site_root.join("pkg");
    let wasm_profile = if release { "wasm-release" } else { "dev" };
    cmd::run(&mut cargo(&[
        "build",
        "-p",
        "frontend",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        wasm_profile,
    ]))?;
    let wasm_dir = if release { "wasm-release" } else { "debug" };
    let wasm = target_dir().join("wasm32-unknown-unknown").join(wasm_dir).join("frontend.wasm");
    fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("scimpad")
        .web(true)
        .and_then(|b| b.debug(false).keep_debug(false).generate(&pkg))
        .map_err(|e| format!("wasm-bindgen on {}: {e}", wasm.display()))?;
    fs::rename(pkg.join("scimpad_bg.wasm"), pkg.join("scimpad.wasm"))
        .map_err(|e| format!("renaming wasm: {e}"))?;
    if release {
        assets::wasm_opt(&pkg.join("scimpad.wasm"))?;
    }
    copy(&root().join("style/main.css"), &pkg.join("scimpad.css"))?;
    assets::precompress(&pkg, release)?;
    for entry in fs::read_dir(root().join("public")).map_err(|e| format!("public/: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let Some(name) = path.file_name() {
            copy(&path, &site_root.join(name))?;
        }
    }
    let mut server = cargo(&["build", "-p", "server"]);
    if release {
        server.arg("--release");
    }
    cmd::run(&mut server)?;
    let profile = if release { "release" } else { "debug" };
    Ok(Built { server_bin: target_dir().join(profile).join("scimpad"), site_root })
}

fn copy(from: &std::path::Path, to: &std::path::Path) -> Result<(), String> {
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// Builds, then runs the server in the foreground (SQLite under ./data unless configured).
pub fn run(release: bool) -> Result<(), String> {
    let built = build(release)?;
    let mut server = Command::new(&built.server_bin);
    server.current_dir(root()).env("SCIMPAD_SITE_ROOT", &built.site_root);
    // A local run is plain http on loopback: a Secure cookie would not be kept by every browser.
    if std::env::var_os("SCIMPAD_SECURE_COOKIES").is_none() {
        server.env("SCIMPAD_SECURE_COOKIES", "false");
    }
    cmd::run(&mut server)
}
