//! The binary starts and knows its version.

#[test]
fn version_prints_the_package_version() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_morgue"))
        .arg("--version")
        .env_clear()
        .output()
        .expect("running morgue --version");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert_eq!(
        stdout.trim(),
        format!("morgue {}", env!("CARGO_PKG_VERSION"))
    );
}
