//! The console's files as browsers download them (issue 14, first load): the release wasm shrunk
//! by binaryen's `wasm-opt -Oz` (npm's `binaryen`, a current release: Debian's 108 predates the
//! wasm features rustc now emits), then every file precompressed with brotli and gzip, which the
//! server picks from by the client's `Accept-Encoding` (`server::assets`).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    cmd::{self, root},
    setup,
};

/// The files of `pkg/` that are precompressed.
const COMPRESSED: [&str; 3] = ["scimpad.wasm", "scimpad.js", "scimpad.css"];

/// The wasm features rustc's `wasm32-unknown-unknown` emits by default, which wasm-opt must accept.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Optimises `wasm` in place for size (`-Oz`, names and producers stripped).
pub fn wasm_opt(wasm: &Path) -> Result<(), String> {
    setup::npm_packages()?;
    let tool = root().join("end2end/node_modules/binaryen/bin/wasm-opt");
    let out = wasm.with_extension("opt.wasm");
    let before = size(wasm);
    cmd::run(
        Command::new("node")
            .arg(&tool)
            .arg(wasm)
            .args(["-Oz", "--strip-debug", "--strip-producers", "--converge"])
            .args(WASM_FEATURES)
            .arg("-o")
            .arg(&out),
    )?;
    fs::rename(&out, wasm).map_err(|e| format!("replacing {}: {e}", wasm.display()))?;
    eprintln!("xtask: wasm-opt -Oz: {} → {} bytes", before, size(wasm));
    Ok(())
}

/// Writes `<file>.br` and `<file>.gz` beside each console file in `pkg`, replacing old ones (a
/// stale `.br` would be served in place of a new build). A release build takes brotli's and
/// gzip's best levels; a debug build (a 20 MB wasm, rebuilt often) fast ones.
pub fn precompress(pkg: &Path, release: bool) -> Result<(), String> {
    let (brotli_quality, gzip_level) = if release { (11, 9) } else { (4, 1) };
    for name in COMPRESSED {
        let file = pkg.join(name);
        let raw = fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        let mut br = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut br, 4096, brotli_quality, 22);
            writer.write_all(&raw).map_err(|e| format!("brotli {name}: {e}"))?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(gzip_level));
        gz.write_all(&raw).map_err(|e| format!("gzip {name}: {e}"))?;
        let gz = gz.finish().map_err(|e| format!("gzip {name}: {e}"))?;
        write(&with_suffix(&file, "br"), &br)?;
        write(&with_suffix(&file, "gz"), &gz)?;
        eprintln!("xtask: {name}: {} bytes, brotli {}, gzip {}", raw.len(), br.len(), gz.len());
    }
    Ok(())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
