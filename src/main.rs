// A compile allocates millions of small objects (tree nodes, names,
// words); mimalloc serves them markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = haptic::cli::main();
    // `exit` would run mimalloc's exit handler, which hands the freed
    // memory of a large compile back to the system a range at a time (150
    // calls for 2,000 backends, about a millisecond) just before the
    // system takes all of it back at once. Standard output is the one
    // buffer left to write; standard error is not buffered.
    #[cfg(target_os = "linux")]
    {
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: `_exit` ends the process; nothing runs after it.
        unsafe { libc::_exit(code) }
    }
    #[cfg(not(target_os = "linux"))]
    std::process::exit(code);
}
