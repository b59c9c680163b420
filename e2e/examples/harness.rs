//! The test harness's two look-ups, for shell scripts (`just e2e`, `.ci/run`,
//! `e2e/python/auth0_sdk/run.sh`), so that they use the very Python environments and binaries
//! that `cargo test` uses rather than making their own:
//!
//! ```sh
//! cargo run -q -p e2e --example harness -- python mcp_sdk   # the interpreter of e2e/python/mcp_sdk/, made on first use
//! cargo run -q -p e2e --example harness -- bin fake-auth0   # target/debug/fake-auth0, built when missing or stale
//! ```
//!
//! It prints the path on stdout, and on failure the reason on stderr with exit status 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let found = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["python", name] => e2e::python::Env::ensure(name).map(|env| env.python().to_path_buf()),
        ["bin", name] => e2e::process::binary(name),
        _ => {
            eprintln!("usage: harness python <environment> | harness bin <binary>");
            return ExitCode::from(2);
        }
    };
    match found {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
