//! The binary: everything, parsing included, is the library's `main`.

/// mimalloc instead of the system's malloc: the standalone simulator
/// allocates and frees per request on every runtime thread, and glibc's
/// arenas spent an eighth of its CPU there (issue 22, `benches/simulator.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vipps_golive::main()
}
