//! Parses the built-in catalogue once, at build time, so that `nsspec run` does not: every
//! scenario under ../scenarios is parsed with the same function and limits as at run time
//! (src/schema.rs, included below) and stored in the compact form `schema::encode` writes. The
//! binary still embeds the YAML (for messages and `nsspec check`), and still validates each
//! scenario when it runs; only the YAML parse moves here. A file that does not parse is left
//! out, so that the run-time parse reports it with its line and column.

use std::path::Path;

#[path = "src/schema.rs"]
#[allow(dead_code)]
mod schema;

fn main() {
    println!("cargo:rerun-if-changed=../scenarios");
    println!("cargo:rerun-if-changed=../snapshots");
    println!("cargo:rerun-if-changed=src/schema.rs");
    let root = Path::new("../scenarios");
    let mut entries = Vec::new();
    collect(root, root, &mut entries);
    entries.sort();
    let table: Vec<schema::CompiledEntry> = entries
        .iter()
        .map(|(path, hash, raw)| (path.as_str(), *hash, raw.as_slice()))
        .collect();
    let bytes = postcard::to_allocvec(&table).expect("encoding the compiled catalogue");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalogue.bin");
    std::fs::write(&out, bytes).expect("writing the compiled catalogue");
    link_order();
}

/// Hands link-order.txt to the linker for the `nsspec` binary (see [`write_link_order`]): the
/// functions a run executes, placed together at the start of the code, so that each of a
/// run's four processes faults in a few windows of code instead of dozens (bench/FINDINGS.md,
/// seventeenth round; `just link-order` writes the file). Only for release builds, and only
/// where a probe links with the options: rust-lld, the default linker of rustup's Rust 1.90
/// and later on x86_64-unknown-linux-gnu, takes `--symbol-ordering-file`; GNU ld, gold and
/// mold do not, and a distribution's rustc may link with cc. Elsewhere the binary is built
/// without the order, with a warning. `NSSPEC_LINK_ORDER=off` turns it off (arguments given
/// to `cargo rustc --` are not visible here). Names the binary no longer has are skipped
/// without a warning; `link-order check` (CI) says how many are left.
fn link_order() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=NSSPEC_LINK_ORDER");
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || var("NSSPEC_LINK_ORDER") == "off"
    {
        return;
    }
    let list = Path::new(&var("CARGO_MANIFEST_DIR")).join("link-order.txt");
    let Ok(list) = std::fs::read_to_string(&list) else {
        return;
    };
    let out = Path::new(&var("OUT_DIR")).to_path_buf();
    let (script, symbols) = (out.join("link-order.ld"), out.join("link-order.sym"));
    if let Err(e) = write_link_order(&list, &script, &symbols) {
        println!("cargo:warning=building without harness/link-order.txt: {e}");
        return;
    }
    let (Some(script), Some(symbols)) = (script.to_str(), symbols.to_str()) else {
        return;
    };
    // -Xlinker rather than -Wl: a comma in the path would split a -Wl argument.
    let args = [
        "-T",
        script,
        "--symbol-ordering-file",
        symbols,
        "--no-warn-symbol-ordering",
    ];
    match probe_link(&args) {
        Ok(()) => {
            for arg in args {
                println!("cargo:rustc-link-arg-bin=nsspec=-Xlinker");
                println!("cargo:rustc-link-arg-bin=nsspec={arg}");
            }
        }
        Err(why) => println!(
            "cargo:warning=building without harness/link-order.txt (the linker would not take \
             it: {why}); the binary works the same, its start-up faults in more code"
        ),
    }
}

/// Splits the list: Rust's functions (v0 names, `_R…`, with `Cs*_` for crate disambiguators)
/// go into a linker script that gathers their sections, one per function, into an output
/// section placed before `.text`, in the list's order; a glob is what lets the names hold
/// across compilers and Cargo.lock changes (a cold function's section is `.text.unlikely.…`,
/// and ThinLTO may add `.llvm.N`). The C library's are ordered by symbol instead: their code
/// sits in one `.text` per object file, which `--symbol-ordering-file` moves to the front of
/// `.text`, right after the Rust functions.
fn write_link_order(list: &str, script: &Path, symbols: &Path) -> std::io::Result<()> {
    let names = list
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty());
    let mut ld = String::from("SECTIONS\n{\n  .text.nsspec_hot :\n  {\n");
    let mut sym = String::new();
    for name in names {
        if name.starts_with("_R")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_*".contains(&b))
        {
            ld.push_str(&format!(
                "    *(.text.{name} .text.{name}.llvm.* .text.unlikely.{name} \
                 .text.unlikely.{name}.llvm.*)\n"
            ));
        } else {
            sym.push_str(name);
            sym.push('\n');
        }
    }
    ld.push_str("  }\n}\nINSERT BEFORE .text;\n");
    std::fs::write(script, ld)?;
    std::fs::write(symbols, sym)
}

/// Links `fn main() {}` as cargo links the binary (same compiler, target, flags and linker)
/// with `args` passed to the linker; the linker's complaint where it fails.
fn probe_link(args: &[&str]) -> Result<(), String> {
    let dir = Path::new(&var("OUT_DIR")).join("link-order-probe");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let src = dir.join("main.rs");
    std::fs::write(&src, "fn main() {}\n").map_err(|e| e.to_string())?;
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut cmd = std::process::Command::new(rustc);
    cmd.args(["--crate-type=bin", "--edition=2021", "--target"])
        .arg(var("TARGET"))
        .arg("-o")
        .arg(dir.join("main"))
        .arg(&src);
    cmd.args(
        var("CARGO_ENCODED_RUSTFLAGS")
            .split('\x1f')
            .filter(|f| !f.is_empty()),
    );
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        cmd.arg(format!("-Clinker={linker}"));
    }
    for arg in args {
        cmd.arg("-Clink-arg=-Xlinker")
            .arg(format!("-Clink-arg={arg}"));
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(stderr
        .lines()
        .find(|l| {
            !l.contains("\"-Xlinker\"") && (l.contains("unrecognized") || l.contains("unknown"))
        })
        .or_else(|| stderr.lines().find(|l| l.starts_with("error")))
        .unwrap_or("the test link failed")
        .trim()
        .trim_start_matches("= note:")
        .trim()
        .to_string())
}

/// An environment variable cargo sets for build scripts; empty where unset.
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// The parts of a [`schema::CompiledEntry`] for each scenario file that parses.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, u64, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
            continue;
        }
        if !schema::is_scenario_file(&path) {
            continue;
        }
        // Named as include_dir! names them (lossily), so that the lookup finds them.
        let rel = path.strip_prefix(root).expect("walked from root");
        let rel = rel.to_string_lossy().into_owned();
        let left_out = |why: &str| {
            println!("cargo:warning=scenarios/{rel} is left to the run-time parse: {why}");
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) if text.len() <= schema::MAX_FILE_BYTES => text,
            Ok(_) => {
                left_out("larger than a scenario may be");
                continue;
            }
            Err(e) => {
                left_out(&e.to_string());
                continue;
            }
        };
        let raw = match schema::parse(&text) {
            Ok(raw) => raw,
            Err(_) => {
                left_out("it does not parse (`nsspec check` says where)");
                continue;
            }
        };
        let Ok(encoded) = schema::encode(&raw) else {
            left_out("it cannot be encoded");
            continue;
        };
        out.push((rel, schema::fnv1a(text.as_bytes()), encoded));
    }
}
