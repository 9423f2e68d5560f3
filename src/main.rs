//! The binary: everything, parsing included, is the library's `main`.

fn main() -> std::process::ExitCode {
    vipps_golive::main()
}
